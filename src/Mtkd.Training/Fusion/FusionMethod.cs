namespace Mtkd.Training.Fusion;

/// <summary>
/// How an ensemble's teachers are combined into one prediction. The first five combine probabilities; the rest
/// are ranked votes (each teacher ranks the classes by its logits), as in the voting study of Zuchniak's thesis.
/// Ranked votes break ties by the highest mean probability across teachers, then the lowest class index.
/// </summary>
public enum FusionMethod
{
    /// <summary>Average of the teachers' softmax probabilities (soft voting).</summary>
    MeanProbability,

    /// <summary>Softmax of the average of the teachers' logits.</summary>
    MeanLogit,

    /// <summary>
    /// Normalised product of the teachers' probabilities (their geometric mean). In exact arithmetic this equals
    /// <see cref="MeanLogit"/>: each teacher's log-softmax differs from its logits by a per-row constant.
    /// </summary>
    Product,

    /// <summary>The probabilities of the single most confident teacher (highest top probability; the lower teacher index on a tie).</summary>
    MaxConfidence,

    /// <summary>Average of probabilities weighted by each teacher's accuracy on validation data.</summary>
    WeightedAverage,

    /// <summary>One vote per teacher for its top class; most votes wins.</summary>
    Plurality,

    /// <summary>A class ranked r-th (from 0) by a teacher gets C−1−r points; most points wins.</summary>
    Borda,

    /// <summary>A class ranked r-th (from 1) gets 1/r points; most points wins.</summary>
    Dowdall,

    /// <summary>Pairwise contests decided by majority; a class scores wins minus losses; highest wins.</summary>
    Copeland,

    /// <summary>Simpson–Kramer minimax: the class whose worst pairwise defeat (voters preferring an opponent) is smallest wins.</summary>
    Simpson,

    /// <summary>Repeatedly drops the class with the lowest Borda score among those left (ties: the weakest by the tie-break), until one is left.</summary>
    Baldwin,

    /// <summary>Repeatedly drops every class whose Borda score among those left is below their mean, until one is left or all are level.</summary>
    Nanson,

    /// <summary>Counts first choices, then first and second, and so on, until some class is ranked that high by a majority; most such votes wins.</summary>
    Bucklin,

    /// <summary>
    /// Single transferable vote with one seat (instant runoff): a class with a majority of first choices among
    /// those left wins; otherwise the class with the fewest is dropped (ties: the weakest by the tie-break) and its votes pass on.
    /// </summary>
    SingleTransferableVote,
}
