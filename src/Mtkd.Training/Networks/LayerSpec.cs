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
