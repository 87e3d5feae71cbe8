// TorchSharp's random generator is process-wide: two test classes training at once would draw from it in an
// order that depends on thread timing, and seeded runs would stop being reproducible. Tests run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
