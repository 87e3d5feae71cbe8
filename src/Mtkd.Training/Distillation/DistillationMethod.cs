using System.Text.Json.Serialization;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// How the teachers' knowledge reaches the student: one registered type per method (in Distillation/Methods), as a
/// layer kind is one type. A method says which teacher signals it reads, how many heads or students it trains, what
/// it fits before training, its loss, and what it cannot be combined with. Its own settings are its properties
/// (each with a documented default), so the CLI's flags and the ML.NET options reach them without a line of their
/// own. A new method is one new file plus its <see cref="JsonDerivedTypeAttribute"/> line here; the name in that
/// line is what the CLI's <c>--method</c> and reports use.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "method")]
[JsonDerivedType(typeof(OutputAverage), "output_avg")]
[JsonDerivedType(typeof(LogitAverage), "logit_avg")]
[JsonDerivedType(typeof(LossAverage), "loss_avg")]
[JsonDerivedType(typeof(MimicAll), "mimic_all")]
[JsonDerivedType(typeof(Supernet), "supernet")]
[JsonDerivedType(typeof(Supernet2), "supernet2")]
[JsonDerivedType(typeof(Confidence), "confidence")]
[JsonDerivedType(typeof(LabelsOnly), "labels")]
[JsonDerivedType(typeof(HintLearning), "hint")]
[JsonDerivedType(typeof(MutualLearning), "mutual")]
[JsonDerivedType(typeof(OnlineEnsemble), "online_ensemble")]
public abstract record DistillationMethod
{
    /// <summary>The registered name (snake_case, as the papers and the CLI say it).</summary>
    [JsonIgnore]
    public string Name => DistillationMethods.NameOf(GetType());

    /// <summary>What the method reads from the teachers. Default: their logits.</summary>
    [JsonIgnore]
    public virtual TeacherSignal Reads => TeacherSignal.Logits;

    /// <summary>Whether unlabelled images train (through the teachers, or the other students); standard training keeps the labelled ones only. Default true.</summary>
    [JsonIgnore]
    public virtual bool LearnsFromUnlabeled => true;

    /// <summary>Student heads for <paramref name="teacherCount"/> teachers (mimic_all: one each). Default 1.</summary>
    internal virtual int StudentHeads(int teacherCount) => 1;

    /// <summary>Refuses, naming the setting, what this method cannot be combined with. Default: anything goes.</summary>
    internal virtual void Check(DistillationSetup setup)
    {
    }

    /// <summary>
    /// What the method fits before training, on the stored teacher signals of the training rows: the teachers as
    /// the steps will read them (supernet: one aggregated teacher). Default: the stored logits as they are.
    /// </summary>
    internal virtual StoredTeachers Prepare(StoredTeachers stored, IReadOnlyList<int> labels, int classCount, int seed) => stored;

    /// <summary>The training of one run: the student's step and anything trained beside it (projectors, peers).</summary>
    internal virtual MethodRun Start(MethodStart start) => new LogitLossRun(this, start.Student);

    /// <summary>The loss of a student's logits [B, C] against the batch's teachers; for methods built on <see cref="LogitLossRun"/>.</summary>
    internal virtual Tensor Loss(Tensor studentLogits, DistillationBatch batch) =>
        throw new NotSupportedException($"{Name} computes its loss in its own run.");

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first of the method's own settings out of range.</summary>
    public virtual void Validate()
    {
    }

    /// <summary>A method whose step is its <see cref="Loss"/> on the student's logits.</summary>
    private sealed class LogitLossRun(DistillationMethod method, SequentialNetwork student) : MethodRun(student)
    {
        public override (Tensor Loss, Tensor Predictions) Step(DistillationBatch batch)
        {
            var logits = Student.forward(batch.Images);
            return (method.Loss(logits, batch), logits);
        }
    }
}
