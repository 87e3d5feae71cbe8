using System.Text.Json.Serialization;

namespace Mtkd.Training.Networks;

/// <summary>One layer of a <see cref="NetworkSpec"/>. Specs are plain data so they serialize to JSON and export to ONNX.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(Conv2dLayer), "conv2d")]
[JsonDerivedType(typeof(BatchNorm2dLayer), "batchnorm2d")]
[JsonDerivedType(typeof(ReluLayer), "relu")]
[JsonDerivedType(typeof(MaxPool2dLayer), "maxpool2d")]
[JsonDerivedType(typeof(FlattenLayer), "flatten")]
[JsonDerivedType(typeof(LinearLayer), "linear")]
[JsonDerivedType(typeof(DropoutLayer), "dropout")]
[JsonDerivedType(typeof(ResidualBlockLayer), "residual")]
[JsonDerivedType(typeof(DepthwiseSeparableLayer), "depthwise_separable")]
[JsonDerivedType(typeof(GlobalAveragePoolLayer), "global_avgpool")]
public abstract record LayerSpec;

/// <summary>2-D convolution with a square kernel, with bias.</summary>
public sealed record Conv2dLayer(int OutChannels, int Kernel = 3, int Stride = 1, int Padding = 1) : LayerSpec;

/// <summary>Batch normalization over channels (eps 1e-5, momentum 0.1, as PyTorch).</summary>
public sealed record BatchNorm2dLayer : LayerSpec;

public sealed record ReluLayer : LayerSpec;

/// <summary>Max pooling with a square window and stride equal to the window.</summary>
public sealed record MaxPool2dLayer(int Kernel = 2) : LayerSpec;

/// <summary>Flattens C×H×W into one feature vector per image.</summary>
public sealed record FlattenLayer : LayerSpec;

/// <summary>Fully connected layer; <see cref="OutFeatures"/> = 0 means "the number of classes".</summary>
public sealed record LinearLayer(int OutFeatures = 0) : LayerSpec;

/// <summary>Dropout while training; the identity in evaluation and in the exported model.</summary>
public sealed record DropoutLayer(double Probability = 0.5) : LayerSpec;

/// <summary>
/// A ResNet basic block (He et al. 2016): 3×3 conv (stride) → BN → ReLU → 3×3 conv → BN, plus a shortcut (the
/// identity, or a 1×1 conv with stride and BN when the shape changes), then ReLU. Convolutions have no bias.
/// </summary>
public sealed record ResidualBlockLayer(int OutChannels, int Stride = 1) : LayerSpec;

/// <summary>A MobileNet block (Howard et al. 2017): 3×3 depthwise conv (stride) → BN → ReLU → 1×1 conv → BN → ReLU, without biases.</summary>
public sealed record DepthwiseSeparableLayer(int OutChannels, int Stride = 1) : LayerSpec;

/// <summary>Averages each channel over its map: C×H×W → [C]. Makes a network independent of the input size.</summary>
public sealed record GlobalAveragePoolLayer : LayerSpec;
