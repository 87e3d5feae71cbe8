using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mtkd.Training;

namespace Mtkd.Samples.FashionMnist;

/// <summary>
/// One folder per configuration, named from a readable prefix and a hash of everything that shapes the result,
/// so a changed setting never reuses a stale result and an interrupted study resumes where it stopped.
/// </summary>
public sealed class ResultCache(string root)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Root { get; } = root;

    /// <summary>The folder for a configuration; <paramref name="key"/> must name every setting that changes the result.</summary>
    public string Folder(string kind, string readable, string key)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..10];
        return Path.Combine(Root, kind, $"{readable}-{hash}");
    }

    /// <summary>Creates a configuration's folder before it is trained, with key.txt spelling out what it holds.</summary>
    public static void Prepare(string folder, string key)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "key.txt"), key + "\n");
    }

    public static T? TryRead<T>(string path) where T : class
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a valid cached result ({e.Message}). Delete it to recompute.", e);
        }
    }

    public static void Write<T>(string path, T value) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, Json));
}
