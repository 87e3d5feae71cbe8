namespace Mtkd.Training.Distillation;

/// <summary>What a distillation method reads from the teachers.</summary>
[Flags]
public enum TeacherSignal
{
    /// <summary>Nothing: the method trains without teachers (label training, students that teach each other).</summary>
    None = 0,

    /// <summary>Each teacher's class logits.</summary>
    Logits = 1,

    /// <summary>The teachers' intermediate features (Mtkd's own teachers export their penultimate "features").</summary>
    Features = 2,
}
