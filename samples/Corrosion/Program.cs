using Mtkd.Samples.Corrosion;
using Mtkd.Samples.Images;

return SampleRunner.Main(CorrosionSample.Definition, args);
