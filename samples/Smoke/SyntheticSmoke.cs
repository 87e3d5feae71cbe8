using Mtkd.Samples.Images;
using SkiaSharp;

namespace Mtkd.Samples.Smoke;

/// <summary>
/// Synthetic stand-ins for frames of a forest observation camera (the source's images are not public): sky (blue or
/// overcast), clouds, haze and two ridges of terrain on every frame; frames with smoke add a translucent plume rising
/// from a point on the far ridge and drifting with the wind. Plumes range from thick to faint and distant, and clear
/// frames sometimes carry low clouds or haze patches on the horizon, which look most like smoke. Saved as JPEG, as
/// cameras deliver them.
/// </summary>
public sealed class SyntheticSmoke : ISyntheticImages
{
    public string Description => "observation-camera landscapes, clear or with a smoke plume rising from the horizon";
    public int Version => 3;

    public (byte[] Encoded, string Extension) Draw(bool positive, int index, int seed, int height, int width)
    {
        var random = Drawing.RandomFor(seed, index, positive);
        using var bitmap = Drawing.NewBitmap(height, width);
        using (var canvas = new SKCanvas(bitmap))
        {
            bool overcast = random.NextDouble() < 0.3;
            Sky(canvas, random, height, width, overcast);
            int clouds = random.Next(0, 6);
            for (int i = 0; i < clouds; i++)
                Cloud(canvas, random, (float)random.Uniform(0, width), (float)random.Uniform(0.05, 0.45) * height, random.Uniform(0.6, 1.4), overcast);
            var far = Ridge(random, height, width, random.Uniform(0.55, 0.72) * height, random.Uniform(4, 14));
            // The hard negatives: a low cloud or a patch of haze sitting on the horizon.
            if (!positive && random.NextDouble() < 0.45)
                Cloud(canvas, random, (float)random.Uniform(0.1, 0.9) * width, HeightAt(far, width, random.Uniform(0.1, 0.9) * width) - (float)random.Uniform(5, 20),
                    random.Uniform(0.4, 0.8), overcast);
            if (random.NextDouble() < 0.5)
                Haze(canvas, random, far, height, width);
            if (positive)
            {
                double x = random.Uniform(0.08, 0.92) * width;
                Plume(canvas, random, new SKPoint((float)x, HeightAt(far, width, x)), 0.15 + 0.85 * Math.Pow(random.NextDouble(), 1.3), height);
            }
            Terrain(canvas, random, far, height, width);
        }
        Drawing.AddNoise(bitmap, random, random.Uniform(2, 6));
        return (Drawing.Encode(bitmap, SKEncodedImageFormat.Jpeg, random.Next(80, 93)), ".jpg");
    }

    private static void Sky(SKCanvas canvas, Random random, int height, int width, bool overcast)
    {
        var top = overcast ? Drawing.Grey(random.Uniform(0.55, 0.8)) : Drawing.Hsv(random.Uniform(200, 218), random.Uniform(0.35, 0.65), random.Uniform(0.6, 0.9));
        var horizon = overcast ? Drawing.Grey(random.Uniform(0.75, 0.92)) : Drawing.Hsv(random.Uniform(195, 215), random.Uniform(0.1, 0.3), random.Uniform(0.85, 0.98));
        using var sky = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, height * 0.7f), [top, horizon], SKShaderTileMode.Clamp) };
        canvas.DrawRect(0, 0, width, height, sky);
    }

    // A cumulus: soft puffs, brighter on top, with a flatter base.
    private static void Cloud(SKCanvas canvas, Random random, float x, float y, double scale, bool overcast)
    {
        int puffs = random.Next(6, 16);
        double value = overcast ? random.Uniform(0.7, 0.9) : random.Uniform(0.88, 1);
        for (int i = 0; i < puffs; i++)
        {
            using var puff = Drawing.Soft(Drawing.Grey(value - random.Uniform(0, 0.08), random.Uniform(0.45, 0.85)), random.Uniform(3, 7));
            float dx = (float)(random.Gaussian(0, 18) * scale), dy = (float)(-Math.Abs(random.Gaussian(0, 6)) * scale);
            float r = (float)(random.Uniform(6, 16) * scale);
            canvas.DrawOval(x + dx, y + dy, r * 1.3f, r, puff);
        }
    }

    // The skyline of a ridge as a random walk: one height per column.
    private static float[] Ridge(Random random, int height, int width, double level, double roughness)
    {
        var line = new float[width + 1];
        double y = level, drift = 0;
        for (int x = 0; x <= width; x++)
        {
            drift = 0.95 * drift + random.Gaussian(0, roughness / 25);
            y = Math.Clamp(y + drift, level - roughness * 4, level + roughness * 3);
            line[x] = (float)Math.Clamp(y, 0.35 * height, 0.9 * height);
        }
        return line;
    }

    private static float HeightAt(float[] ridge, int width, double x) => ridge[(int)Math.Clamp(x, 0, width)];

    private static void Haze(SKCanvas canvas, Random random, float[] far, int height, int width)
    {
        float y = far.Min();
        float band = (float)random.Uniform(10, 35);
        using var haze = new SKPaint
        {
            Shader = SKShader.CreateLinearGradient(new SKPoint(0, y - band), new SKPoint(0, y + band),
                [Drawing.Grey(0.95, 0), Drawing.Grey(0.95, random.Uniform(0.2, 0.55)), Drawing.Grey(0.95, 0)], [0, 0.6f, 1], SKShaderTileMode.Clamp),
        };
        canvas.DrawRect(0, y - band, width, 2 * band, haze);
    }

    // Smoke: puffs rising from the source, growing and thinning as they go, bent by the wind.
    private static void Plume(SKCanvas canvas, Random random, SKPoint source, double severity, int height)
    {
        double rise = random.Uniform(30, 60) + severity * random.Uniform(20, 60);
        double wind = random.Uniform(-1.5, 1.5), startRadius = random.Uniform(2, 5), spread = random.Uniform(12, 28) * (0.6 + severity);
        double value = random.NextDouble() < 0.7 ? random.Uniform(0.7, 0.92) : random.Uniform(0.4, 0.6);
        double opacity = 0.12 + 0.45 * severity;
        int puffs = 25 + (int)(severity * 45);
        for (int i = 0; i < puffs; i++)
        {
            double t = (double)i / puffs;
            float x = source.X + (float)(wind * Math.Pow(t, 1.4) * rise + random.Gaussian(0, 1 + 4 * t));
            float y = source.Y - (float)(t * rise + random.Gaussian(0, 1.5));
            float r = (float)(startRadius + t * spread);
            using var puff = Drawing.Soft(Drawing.Hsv(30, 0.08, value, opacity * (1 - 0.65 * t)), 2 + 3 * t);
            canvas.DrawCircle(x, Math.Max(-r, y), r, puff);
        }
    }

    // The far ridge in hazy blue-grey, a nearer darker forested ridge in front.
    private static void Terrain(SKCanvas canvas, Random random, float[] far, int height, int width)
    {
        using (var farFill = new SKPaint { Color = Drawing.Hsv(random.Uniform(190, 230), random.Uniform(0.1, 0.3), random.Uniform(0.45, 0.65)), IsAntialias = true })
            canvas.DrawPath(Below(far, height), farFill);
        var near = Ridge(random, height, width, far.Average() + random.Uniform(15, 40), random.Uniform(6, 16));
        for (int x = 0; x < near.Length; x++) near[x] = Math.Max(near[x], far[x] + 3);
        var forest = Drawing.Hsv(random.Uniform(70, 140), random.Uniform(0.3, 0.6), random.Uniform(0.15, 0.35));
        using (var nearFill = new SKPaint { Color = forest, IsAntialias = true })
            canvas.DrawPath(Below(near, height), nearFill);
        using var tree = new SKPaint { Color = forest.WithAlpha(255), IsAntialias = true };
        for (int i = 0; i < width / 3; i++)
        {
            int x = random.Next(width);
            float top = near[x] - (float)random.Uniform(2, 7);
            using var path = new SKPath();
            path.MoveTo(x, top);
            path.LineTo(x - 2.5f, near[x] + 2);
            path.LineTo(x + 2.5f, near[x] + 2);
            path.Close();
            canvas.DrawPath(path, tree);
        }
    }

    private static SKPath Below(float[] ridge, int height)
    {
        var path = new SKPath();
        path.MoveTo(0, height);
        for (int x = 0; x < ridge.Length; x++) path.LineTo(x, ridge[x]);
        path.LineTo(ridge.Length - 1, height);
        path.Close();
        return path;
    }
}
