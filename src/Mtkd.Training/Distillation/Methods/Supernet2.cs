namespace Mtkd.Training.Distillation.Methods;

/// <summary>"supernet2": as supernet, over the teachers' penultimate features instead of their logits.</summary>
public sealed record Supernet2 : Supernet
{
    public override TeacherSignal Reads => TeacherSignal.Features;

    internal override void Check(DistillationSetup setup)
    {
        base.Check(setup);
        if (!setup.HasFeatures)
            throw new ArgumentException("supernet2 needs the teachers' penultimate features: name the teachers' output that holds them (Mtkd's teachers call it \"features\").");
        if (setup.Options.AdjustWrongTeachers)
            throw new ArgumentException("AdjustWrongTeachers adjusts teacher logits; supernet2 learns from the teachers' features.");
    }

    private protected override float[] AggregatorInputs(StoredTeachers stored) =>
        stored.Features ?? throw new ArgumentException("supernet2 needs the teachers' penultimate features.");
}
