using System.Globalization;
using Mtkd.Training.Teachers;

namespace Mtkd.Samples.FashionMnist;

/// <summary>How a regime's teachers are made: K networks, each on its own random share of the labelled images, early-stopped on the rest.</summary>
/// <param name="Architecture">Network preset.</param>
/// <param name="Width">Its base width (null: the preset's).</param>
/// <param name="Count">K.</param>
/// <param name="Fraction">Share of the labelled images each teacher trains on; the others are its validation set for early stopping (at 1, none: each trains its full epochs, from its own
/// seed).</param>
/// <param name="MaxEpochs">Epochs at most (the cosine schedule spans them).</param>
/// <param name="Patience">Early-stopping patience in epochs, on the validation accuracy (the loss turns up long before the accuracy stops rising).</param>
/// <param name="RandAugmentOps">RandAugment operations per image on top of shifts and flips, at magnitude 9 (0: none).</param>
/// <param name="Specialists">Whether the K teachers are specialists (Zaras 2021): teacher k learns the k-th of the default groups of
/// <see cref="SpecialistClasses.DefaultGroups"/> (every class covered twice) and "other", and the K form one unified teacher.</param>
public sealed record TeacherRecipe(string Architecture, int? Width, int Count, double Fraction, int MaxEpochs, int Patience, int RandAugmentOps = 0, bool Specialists = false)
{
    /// <summary>Everything that shapes a teacher, for cache keys.</summary>
    public string Key => string.Create(CultureInfo.InvariantCulture,
        $"{Architecture} width={Width} fraction={Fraction} epochs={MaxEpochs} patience={Patience} on accuracy shift=2 flip adam lr=0.002 cosine batch=128") +
        (RandAugmentOps > 0 ? string.Create(CultureInfo.InvariantCulture, $" randaugment={RandAugmentOps}x9") : "") +
        (Specialists ? string.Create(CultureInfo.InvariantCulture, $" specialists={Count}") : "");

    /// <summary>Teacher k's classes when the teachers are specialists of <paramref name="classCount"/> classes; null otherwise.</summary>
    public SpecialistClasses? SpecialistOf(int k, int classCount) => Specialists ? SpecialistClasses.DefaultGroups(classCount, Count)[k] : null;
}

/// <summary>Where a distilled student's teacher signal comes from.</summary>
public enum TeacherSignal
{
    /// <summary>No teachers: the student learns the labels (a baseline).</summary>
    None,

    /// <summary>The teachers score every training batch after augmentation and mixing: exactly the view the student sees.</summary>
    Online,

    /// <summary>The teachers' logits for the clean (unaugmented) images, computed once and stored.</summary>
    Stored,

    /// <summary>Stored, but each image learns only from the teachers that did not train on it (cross-fitted soft labels).</summary>
    OutOfBag,

    /// <summary>
    /// A fixed pool of augmented views of every training image (the original and V − 1 shifted or flipped copies),
    /// scored by the teachers once: consistent like online teaching, at one teacher pass per view instead of one per
    /// student step, which pays for long schedules. The student trains on the pool without further shifts or flips.
    /// </summary>
    Pool,

    /// <summary>
    /// No pre-trained teachers: <see cref="StudentRecipe.Peers"/> students of the same network train together and
    /// learn from each other's predictions (deep mutual learning); the first is reported.
    /// </summary>
    Mutual,
}

/// <summary>One way to train the student. Baselines (<see cref="Signal"/> None) learn the labels with the same augmentation and steps.</summary>
/// <param name="Name">Short name, used in tables and cache folders.</param>
/// <param name="Description">What it does, for the report.</param>
/// <param name="Signal">The teacher signal.</param>
/// <param name="Alpha">Weight of the hard-label term (on the labelled rows).</param>
/// <param name="Temperature">T.</param>
/// <param name="Mixup">Mixup's Beta parameter (0: off).</param>
/// <param name="Unlabeled">Train on the labelled images and every other training image without its label.</param>
/// <param name="Views">For <see cref="TeacherSignal.Pool"/>: views per image in the pool.</param>
/// <param name="Budget">Images seen, as a multiple of the regime's <see cref="Regime.StudentSamples"/> (the budget curve: a recipe at 2× is compared with the baseline at 2×).</param>
/// <param name="Peers">For <see cref="TeacherSignal.Mutual"/>: students trained together.</param>
public sealed record StudentRecipe(string Name, string Description, TeacherSignal Signal, double Alpha = 0.5, double Temperature = 4, double Mixup = 0,
    bool Unlabeled = false, int Views = 0, int Budget = 1, int Peers = 0)
{
    public bool IsBaseline => Signal == TeacherSignal.None;

    /// <summary>Whether the recipe needs the regime's trained teachers (mutual learning trains its own peers).</summary>
    public bool UsesTeachers => Signal is not (TeacherSignal.None or TeacherSignal.Mutual);

    /// <summary>The baseline a distilled recipe is compared with: the same augmentation (mixup included), the same steps and budget.</summary>
    public string BaselineName => Mixup > 0 ? LabelsWithMixup.Name : Budget == 1 ? Labels.Name : LabelsAt(Budget).Name;

    /// <summary>The labels-only baseline at <paramref name="budget"/>× the regime's images seen.</summary>
    public static StudentRecipe LabelsAt(int budget) => budget == 1 ? Labels
        : new($"labels {budget}x", $"the baseline at {budget}× the images seen", TeacherSignal.None, Budget: budget);

    // "pool=job": since issue 24 the distillation job draws the pool of views (from the student's seed) and scores it
    // for each student, where the study drew it from its own seed and scored it once per seed; the old results differ.
    // The budget and the peers enter the key only when set, so the keys of earlier runs are unchanged.
    public string Key => (IsBaseline
        ? string.Create(CultureInfo.InvariantCulture, $"labels mixup={Mixup}")
        : string.Create(CultureInfo.InvariantCulture, $"{Signal} alpha={Alpha} T={Temperature} mixup={Mixup} unlabeled={Unlabeled}{(Views > 0 ? $" views={Views} pool=job" : "")}"))
        + (Budget != 1 ? string.Create(CultureInfo.InvariantCulture, $" budget={Budget}x") : "")
        + (Peers > 0 ? string.Create(CultureInfo.InvariantCulture, $" peers={Peers}") : "");

    public static readonly StudentRecipe Labels = new("labels", "cross-entropy on the labels (the baseline)", TeacherSignal.None);
    public static readonly StudentRecipe LabelsWithMixup = new("labels+mixup", "cross-entropy on mixed labels, mixup Beta(1, 1) (the baseline of mixup recipes)", TeacherSignal.None, Mixup: 1);
}

/// <summary>The target a regime must meet: the student's gain G over its baseline against the ensemble's lead L.</summary>
/// <param name="MinGain">G must be at least this (fraction; 0.01 is one point).</param>
/// <param name="MinShareOfLead">G ≥ this × L.</param>
/// <param name="Significant">G must also exceed two standard errors.</param>
public sealed record RegimeTarget(double MinGain, double MinShareOfLead, bool Significant)
{
    public string Text => string.Join(" and ", new[]
    {
        Significant ? "G > 2 SE" : null,
        MinGain > 0 ? string.Create(CultureInfo.InvariantCulture, $"G ≥ {100 * MinGain:0.#}") : null,
        string.Create(CultureInfo.InvariantCulture, $"G ≥ {MinShareOfLead}·L"),
    }.Where(c => c is not null));
}

/// <summary>A situation a user meets: how many labels, what teachers, what student, and the recipes tried.</summary>
/// <param name="Key">A, B or C.</param>
/// <param name="Title">What the user has.</param>
/// <param name="Labels">Labelled training images (the first N of the training split).</param>
/// <param name="Teachers">How the teachers are made (on the labelled images only).</param>
/// <param name="StudentArchitecture">Student preset.</param>
/// <param name="StudentWidth">Its width.</param>
/// <param name="StudentSamples">Images the student sees in training, the same for every recipe (epochs = this over the training rows, rounded up).</param>
/// <param name="Recipes">Baselines and distillation recipes, in the order they run.</param>
/// <param name="Target">What G must reach.</param>
public sealed record Regime(string Key, string Title, int Labels, TeacherRecipe Teachers, string StudentArchitecture, int? StudentWidth,
    long StudentSamples, StudentRecipe[] Recipes, RegimeTarget Target)
{
    /// <summary>How many of the first recipes run for every seed; the rest are exploratory and run for the first seed only (n = 1 in the tables). Default: all.</summary>
    public int Primary { get; init; } = int.MaxValue;

    /// <summary>
    /// The regime with <paramref name="labels"/> labelled images instead (the label curve): teachers keep the same
    /// training budget in images seen, so their epochs scale with 1 / labels (at least 1).
    /// </summary>
    public Regime AtLabels(int labels) => labels == Labels ? this : this with
    {
        Labels = labels,
        Teachers = Teachers with { MaxEpochs = (int)Math.Max(1, Math.Ceiling((double)Teachers.MaxEpochs * Labels / labels)) },
    };

    public IEnumerable<StudentRecipe> Distilled => Recipes.Where(r => !r.IsBaseline);

    /// <summary>Images a student of <paramref name="recipe"/> sees.</summary>
    public long SamplesOf(StudentRecipe recipe) => StudentSamples * recipe.Budget;

    /// <summary>Whether any recipe of the regime needs its teachers.</summary>
    public bool UsesTeachers => Recipes.Any(r => r.UsesTeachers);
}

/// <summary>How big a study is: the regimes, the seeds, and the label-count curve of regime C's headline recipe.</summary>
/// <param name="Name">quick or standard.</param>
/// <param name="TestImages">Test images used (null: all 10,000).</param>
/// <param name="Seeds">Seeds; every figure is the mean over them, differences paired by seed.</param>
/// <param name="Regimes">The regimes.</param>
/// <param name="CurveLabels">Label counts for the curve (regime C's teachers and headline recipe at each, the first seed only).</param>
/// <param name="CurveRecipe">The recipe of the curve.</param>
public sealed record StudyProfile(string Name, int? TestImages, int[] Seeds, Regime[] Regimes, int[] CurveLabels, string CurveRecipe)
{
    private static readonly StudentRecipe Online = new("online", "teachers score the student's own augmented view, α 0.5, T 4", TeacherSignal.Online);
    private static readonly StudentRecipe Stored = new("stored", "teachers' logits of the clean images, stored, α 0.5, T 4", TeacherSignal.Stored);
    private static readonly StudentRecipe OutOfBag = new("out-of-bag", "stored, each image from the teachers that never trained on it, α 0.5, T 4", TeacherSignal.OutOfBag);
    private static readonly StudentRecipe OnlineMixup = new("online+mixup", "online teachers on mixup views (Beta(1, 1)), α 0.5, T 4", TeacherSignal.Online, Mixup: 1);
    private static readonly StudentRecipe Pool = new("pool", "a pool of 5 views per image scored once by the teachers, α 0.5, T 4", TeacherSignal.Pool, Views: 5);
    private static readonly StudentRecipe Unlabeled = new("unlabelled", "labelled and unlabelled images, a pool of 5 views per image scored once by the teachers, α 0.5 on the labelled, T 4",
        TeacherSignal.Pool, Unlabeled: true, Views: 5);
    private static readonly StudentRecipe UnlabeledT1 = new("unlabelled T1", "as unlabelled, at T 1 (the teachers' own probabilities: easier for a small student to match)",
        TeacherSignal.Pool, Temperature: 1, Unlabeled: true, Views: 5);

    private static readonly StudentRecipe PoolT1 = new("pool T1", "a pool of 5 views per image scored once by the teachers, α 0.5, T 1", TeacherSignal.Pool, Temperature: 1, Views: 5);
    private static readonly StudentRecipe PoolT1Twice = PoolT1 with { Name = "pool T1 2x", Description = "pool T1 at 2× the images seen", Budget = 2 };
    private static readonly StudentRecipe Mutual2 = new("mutual 2", "two peers of the student's network trained together (deep mutual learning, α 0.5, T 1); no teachers",
        TeacherSignal.Mutual, Temperature: 1, Peers: 2);
    private static readonly StudentRecipe PoolT1Four = PoolT1 with { Name = "pool T1 4x", Description = "pool T1 at 4× the images seen", Budget = 4 };
    private static readonly StudentRecipe Mutual3 = Mutual2 with { Name = "mutual 3", Description = "three peers trained together (deep mutual learning, α 0.5, T 1); no teachers", Peers = 3 };

    public IEnumerable<Regime> AllRegimes => Regimes;

    public Regime Regime(string key) => Regimes.Single(r => r.Key == key);

    /// <summary>Small enough for a test: 1,000 labels, 2 teachers, a few epochs, two seeds.</summary>
    public static StudyProfile Quick { get; } = new("quick", TestImages: 1_000, Seeds: [1, 2],
        Regimes:
        [
            new("A", "same complexity: labels, teachers of the student's architecture", 1_000,
                new TeacherRecipe("cnn-small", 8, Count: 2, Fraction: 0.7, MaxEpochs: 10, Patience: 3), "cnn-small", 8, 10_000,
                [StudentRecipe.Labels, Online, Stored, OutOfBag], new RegimeTarget(0, 0.5, true)) { Primary = 2 },
            new("C", "few labels, many images", 1_000,
                new TeacherRecipe("cnn-small", 8, Count: 2, Fraction: 0.7, MaxEpochs: 10, Patience: 3), "cnn-small", 8, 10_000,
                [StudentRecipe.Labels, Unlabeled with { Views = 2 }], new RegimeTarget(0.01, 0.6, false)),
            new("S", "specialists and mutual learning", 1_000,
                new TeacherRecipe("cnn-small", 8, Count: 3, Fraction: 1, MaxEpochs: 5, Patience: 0, Specialists: true), "cnn-small", 8, 10_000,
                [StudentRecipe.Labels, PoolT1 with { Views = 2 }, Mutual2], new RegimeTarget(0, 0.5, true)),
        ],
        CurveLabels: [500], CurveRecipe: "unlabelled")
    { UnlabeledImages = 3_000 };

    /// <summary>The profile the README reports: under 2 hours on two CPU cores (main recipes for every seed, then the label curve, then one seed of the exploratory recipes).</summary>
    public static StudyProfile Standard { get; } = new("standard", TestImages: null, Seeds: [1, 2, 3],
        Regimes:
        [
            new("A", "same complexity: labels; 5 teachers of the student's architecture on 70 % subsets", 5_000,
                new TeacherRecipe("cnn-small", 16, Count: 5, Fraction: 0.7, MaxEpochs: 60, Patience: 15), "cnn-small", 16, 400_000,
                [StudentRecipe.Labels, Online, Stored, OutOfBag, Pool], new RegimeTarget(0, 0.5, true)) { Primary = 2 },
            new("C", "few labels, many images: 5,000 labels, the other 55,000 training images unlabelled", 5_000,
                new TeacherRecipe("cnn-small", 32, Count: 3, Fraction: 1, MaxEpochs: 40, Patience: 0), "cnn-small", 8, 1_200_000,
                [StudentRecipe.Labels, UnlabeledT1, Unlabeled], new RegimeTarget(0.01, 0.6, false)) { Primary = 2 },
            new("B", "compression: 20,000 labels; teachers 13× the student's multiply-accumulates each", 20_000,
                new TeacherRecipe("cnn-small", 32, Count: 3, Fraction: 0.7, MaxEpochs: 15, Patience: 4), "cnn-small", 8, 400_000,
                [StudentRecipe.Labels, Pool, Online, Stored, StudentRecipe.LabelsWithMixup, OnlineMixup], new RegimeTarget(0, 0.5, false)) { Primary = 2 },
            // Issue 25's regimes: teachers each on all the labels from its own seed (a deep ensemble), mutual learning,
            // and a second budget point (2× the images seen) for the baseline and the pool.
            new("A5", "same complexity, full-data teachers: 5,000 labels; 5 teachers of the student's architecture, each on all the labels from its own seed", 5_000,
                new TeacherRecipe("cnn-small", 16, Count: 5, Fraction: 1, MaxEpochs: 60, Patience: 0), "cnn-small", 16, 400_000,
                [StudentRecipe.Labels, PoolT1, Mutual2, StudentRecipe.LabelsAt(2), PoolT1Twice, Mutual3, StudentRecipe.LabelsAt(4), PoolT1Four],
                new RegimeTarget(0, 0.5, true)) { Primary = 5 },
            new("A5s", "same complexity, specialists: 5,000 labels; 5 specialists of the student's architecture, each on all the labels, 4 classes and \"other\" each, unified", 5_000,
                new TeacherRecipe("cnn-small", 16, Count: 5, Fraction: 1, MaxEpochs: 60, Patience: 0, Specialists: true), "cnn-small", 16, 400_000,
                [StudentRecipe.Labels, PoolT1], new RegimeTarget(0, 0.5, true)),
            new("A60", "same complexity on all 60,000 labels (MTKD's own claim); 3 full-data teachers of the student's architecture", 60_000,
                new TeacherRecipe("cnn-small", 16, Count: 3, Fraction: 1, MaxEpochs: 10, Patience: 0), "cnn-small", 16, 600_000,
                [StudentRecipe.Labels, PoolT1, Mutual2, StudentRecipe.LabelsAt(2), PoolT1Twice], new RegimeTarget(0, 0.5, true)) { Primary = 3 },
            new("B1", "compression, full-data teachers: 20,000 labels; 3 teachers 13× the student's multiply-accumulates, each on all the labels from its own seed", 20_000,
                new TeacherRecipe("cnn-small", 32, Count: 3, Fraction: 1, MaxEpochs: 15, Patience: 0), "cnn-small", 8, 400_000,
                [StudentRecipe.Labels, Pool], new RegimeTarget(0, 0.5, false)),
        ],
        CurveLabels: [1_000, 20_000, 60_000], CurveRecipe: "unlabelled T1");

    /// <summary>Unlabelled images for regime C (null: every training image past the labelled ones).</summary>
    public int? UnlabeledImages { get; init; }

    public static StudyProfile Parse(string name) => name switch
    {
        "quick" => Quick,
        "standard" => Standard,
        _ => throw new ArgumentException($"Unknown profile '{name}'; expected quick or standard."),
    };
}
