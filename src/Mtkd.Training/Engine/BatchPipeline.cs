using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Mtkd.Training.Distillation;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>
/// Prepares an epoch's batches on a thread of its own, one batch ahead of the steps (a bounded queue of one): while
/// the student steps on batch s, batch s + 1 is read, augmented, mixed and scored by the online teachers. The batches
/// are prepared in step order by one thread, so every seeded draw happens in the same order as when the steps prepare
/// them in turn: the same batches, the same teacher outputs, the same trained weights. A step hands its batch back
/// when done (disposing it), and the preparing thread frees it: each thread frees the tensors it made. An error on
/// the preparing thread is thrown again by the next <see cref="Take"/>; disposing stops the thread and frees the rest.
/// </summary>
internal sealed class BatchPipeline : IDisposable
{
    /// <summary>
    /// One prepared batch, its tensors outside any dispose scope. Disposing it frees them, or, for a batch a pipeline
    /// made, hands it back to the pipeline's thread, which frees it: the thread that makes a tensor frees it.
    /// </summary>
    public sealed class Batch(int count, Tensor indices, Tensor labels, Tensor images, BatchMix? mix, Tensor[] ahead) : IDisposable
    {
        internal BatchPipeline? Owner { get; set; }

        public int Count => count;
        public Tensor Indices => indices;
        public Tensor Labels => labels;
        public Tensor Images => images;
        public BatchMix? Mix => mix;
        public IReadOnlyList<Tensor> Ahead => ahead;

        private IEnumerable<Tensor> Tensors => new[] { indices, labels, images }.Concat(ahead).Concat(mix is null ? [] : [mix.Permutation]);

        /// <summary>Takes the batch's tensors out of <paramref name="scope"/> (where they were made), so they outlive it.</summary>
        public Batch DetachFrom(DisposeScope scope)
        {
            foreach (var t in Tensors.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
                scope.Detach(t);
            return this;
        }

        public void Dispose()
        {
            if (Owner is { } owner)
            {
                Owner = null;
                owner.returned.Enqueue(this);
                return;
            }
            foreach (var t in Tensors.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
                t.Dispose();
        }
    }

    private readonly ConcurrentQueue<Batch> returned = new();

    // On the pipeline's thread: frees the batches the steps are done with.
    private void FreeReturned()
    {
        while (returned.TryDequeue(out var batch)) batch.Dispose();
    }

    private readonly BlockingCollection<Batch> ready = new(boundedCapacity: 1);
    private readonly CancellationTokenSource stop;
    private readonly ManualResetEventSlim released = new();
    private readonly Thread thread;
    private ExceptionDispatchInfo? failure;

    /// <param name="steps">Batches in the epoch.</param>
    /// <param name="prepare">Prepares batch s.</param>
    /// <param name="threads">libtorch intra-op threads of the preparing thread; 0 leaves the process's count.</param>
    /// <param name="cancellation">Stops the preparing thread before its next batch.</param>
    public BatchPipeline(int steps, Func<int, Batch> prepare, int threads, CancellationToken cancellation)
    {
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        thread = new Thread(() => Produce(steps, prepare, threads)) { IsBackground = true, Name = "Mtkd batch pipeline" };
        thread.Start();
    }

    /// <summary>Tensors the preparing threads left alive, by TorchSharp's count on each (0 unless something leaked), summed over every pipeline.</summary>
    internal static long PreparingThreadsLiveTensors => Interlocked.Read(ref preparingLive);

    private static long preparingLive;

    private void Produce(int steps, Func<int, Batch> prepare, int threads)
    {
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        try
        {
            if (threads > 0) set_num_threads(threads); // this thread's own intra-op threads (OpenMP's count is per calling thread)
            for (int s = 0; s < steps && !stop.IsCancellationRequested; s++)
            {
                FreeReturned();
                var batch = prepare(s);
                batch.Owner = this;
                try
                {
                    ready.Add(batch, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    batch.Dispose();
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            failure = ExceptionDispatchInfo.Capture(ex);
        }
        finally
        {
            ready.CompleteAdding();
            // Wait until the steps are done with every batch, free them here, then count what this thread left alive.
            released.Wait();
            FreeReturned();
            Interlocked.Add(ref preparingLive, DisposeScopeManager.Statistics.ThreadTotalLiveCount - live);
        }
    }

    /// <summary>The next batch, waiting for it if it is still being prepared.</summary>
    public Batch Take()
    {
        if (ready.TryTake(out var batch, Timeout.Infinite))
            return batch;
        failure?.Throw();
        throw new InvalidOperationException("The batch pipeline has no more batches for this epoch.");
    }

    public void Dispose()
    {
        stop.Cancel();
        while (!ready.IsCompleted)
            if (ready.TryTake(out var left, 10)) left.Dispose();
        released.Set();
        thread.Join();
        ready.Dispose();
        stop.Dispose();
        released.Dispose();
    }
}
