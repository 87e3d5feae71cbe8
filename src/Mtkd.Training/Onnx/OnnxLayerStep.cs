using static TorchSharp.torch;

namespace Mtkd.Training.Onnx;

/// <summary>
/// What a layer needs to write its ONNX nodes: its node name ("layers.{i}", after the module's name), the value it
/// reads, the value it must write, its module, and the next layer (a convolution folds the batch norm after it).
/// </summary>
internal sealed record OnnxLayerStep(
    string Name, string Input, string Output, nn.Module<Tensor, Tensor> Module, bool Fold, bool IsLast,
    Networks.LayerSpec? Next, nn.Module<Tensor, Tensor>? NextModule, string? NextName, string? NextOutput);
