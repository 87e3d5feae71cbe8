using Mtkd.Samples.Images;
using SkiaSharp;

namespace Mtkd.Samples.Corrosion;

/// <summary>
/// Synthetic stand-ins for close-up photographs of aircraft fuselage skin (the source's images are not public):
/// brushed aluminium panels with seams and rivet rows, lighting gradients, dirt smudges, scratches and paint
/// patches on every image; corroded panels add rust blotches with pitting, sometimes running in streaks. Severity
/// varies, and clean panels carry brownish dirt, so the task is not trivially separable.
/// </summary>
public sealed class SyntheticCorrosion : ISyntheticImages
{
    public string Description => "riveted aluminium panels, clean or with rust blotches and pitting";
    public int Version => 2;

    public (byte[] Encoded, string Extension) Draw(bool positive, int index, int seed, int height, int width)
    {
        var random = Drawing.RandomFor(seed, index, positive);
        using var bitmap = Drawing.NewBitmap(height, width);
        using (var canvas = new SKCanvas(bitmap))
        {
            var rivets = Panel(canvas, random, height, width);
            Distractors(canvas, random, height, width);
            if (positive)
            {
                // Early corrosion is small and faint: severity runs from barely visible spots to large blotches.
                double severity = Math.Pow(random.NextDouble(), 1.5);
                int blotches = 1 + (random.NextDouble() < 0.4 ? random.Next(1, 3) : 0);
                for (int b = 0; b < blotches; b++)
                {
                    // Corrosion starts where moisture collects: more often than not at a rivet.
                    var centre = random.NextDouble() < 0.6 && rivets.Count > 0
                        ? rivets[random.Next(rivets.Count)]
                        : new SKPoint((float)random.Uniform(0.08, 0.92) * width, (float)random.Uniform(0.08, 0.92) * height);
                    Rust(canvas, random, centre, severity * (b == 0 ? 1 : random.Uniform(0.5, 1)), height);
                }
            }
        }
        Drawing.AddNoise(bitmap, random, random.Uniform(3, 7));
        return (Drawing.Encode(bitmap, SKEncodedImageFormat.Png, 100), ".png");
    }

    // Brushed metal under a lighting gradient, with one or two seams and their rivet rows; returns the rivets' centres.
    private static List<SKPoint> Panel(SKCanvas canvas, Random random, int height, int width)
    {
        double value = random.Uniform(0.6, 0.82), hue = random.NextDouble() < 0.5 ? 210 : 35, saturation = random.Uniform(0, 0.06);
        double angle = random.Uniform(0, 2 * Math.PI), spread = random.Uniform(0.05, 0.18);
        var from = new SKPoint(width / 2f - (float)Math.Cos(angle) * width / 2, height / 2f - (float)Math.Sin(angle) * height / 2);
        var to = new SKPoint(width - from.X, height - from.Y);
        using (var light = new SKPaint
        {
            Shader = SKShader.CreateLinearGradient(from, to,
                [Drawing.Hsv(hue, saturation, value + spread), Drawing.Hsv(hue, saturation, value - spread)], SKShaderTileMode.Clamp),
        })
            canvas.DrawRect(0, 0, width, height, light);

        bool horizontalGrain = random.NextDouble() < 0.5;
        for (int i = 0; i < 160; i++)
        {
            using var line = new SKPaint { Color = Drawing.Grey(random.NextDouble() < 0.5 ? 1 : 0, random.Uniform(0.03, 0.09)), StrokeWidth = (float)random.Uniform(0.5, 1.5) };
            float p = (float)random.NextDouble() * (horizontalGrain ? height : width), a = (float)random.NextDouble() * (horizontalGrain ? width : height);
            float length = (float)random.Uniform(0.2, 1) * (horizontalGrain ? width : height);
            if (horizontalGrain) canvas.DrawLine(a, p, a + length, p, line);
            else canvas.DrawLine(p, a, p, a + length, line);
        }

        var rivets = new List<SKPoint>();
        int seams = random.Next(1, 3);
        double rivetRadius = random.Uniform(2.5, 4.2), pitch = random.Uniform(16, 26);
        for (int s = 0; s < seams; s++)
        {
            bool vertical = random.NextDouble() < 0.5;
            float at = (float)random.Uniform(0.15, 0.85) * (vertical ? width : height);
            using var dark = new SKPaint { Color = Drawing.Grey(value * 0.45, 0.9), StrokeWidth = 2, IsAntialias = true };
            using var bright = new SKPaint { Color = Drawing.Grey(Math.Min(1, value + 0.2), 0.7), StrokeWidth = 1, IsAntialias = true };
            if (vertical) { canvas.DrawLine(at, 0, at, height, dark); canvas.DrawLine(at + 2, 0, at + 2, height, bright); }
            else { canvas.DrawLine(0, at, width, at, dark); canvas.DrawLine(0, at + 2, width, at + 2, bright); }
            float offset = (float)random.Uniform(7, 11) * (random.NextDouble() < 0.5 ? -1 : 1);
            for (double t = random.Uniform(0, pitch); t < (vertical ? height : width); t += pitch)
            {
                var c = vertical ? new SKPoint(at + offset, (float)t) : new SKPoint((float)t, at + offset);
                rivets.Add(c);
                Rivet(canvas, c, (float)rivetRadius, value);
            }
        }
        return rivets;
    }

    private static void Rivet(SKCanvas canvas, SKPoint c, float r, double value)
    {
        using (var shadow = Drawing.Soft(Drawing.Grey(0, 0.35), 1.2))
            canvas.DrawCircle(c.X + 1, c.Y + 1, r + 0.5f, shadow);
        using var head = new SKPaint
        {
            IsAntialias = true,
            Shader = SKShader.CreateRadialGradient(new SKPoint(c.X - r / 3, c.Y - r / 3), r * 1.4f,
                [Drawing.Grey(Math.Min(1, value + 0.25)), Drawing.Grey(value * 0.55)], SKShaderTileMode.Clamp),
        };
        canvas.DrawCircle(c, r, head);
    }

    // What every panel may carry: dirt (sometimes brownish, the hard negatives), scratches, patches of paint.
    private static void Distractors(SKCanvas canvas, Random random, int height, int width)
    {
        int smudges = random.Next(0, 4);
        for (int i = 0; i < smudges; i++)
        {
            bool brownish = random.NextDouble() < 0.5;
            var colour = brownish ? Drawing.Hsv(random.Uniform(15, 40), random.Uniform(0.15, 0.45), random.Uniform(0.3, 0.6), random.Uniform(0.12, 0.35))
                : Drawing.Grey(random.Uniform(0.15, 0.45), random.Uniform(0.1, 0.3));
            using var dirt = Drawing.Soft(colour, random.Uniform(6, 14));
            float cx = (float)random.NextDouble() * width, cy = (float)random.NextDouble() * height;
            canvas.DrawOval(cx, cy, (float)random.Uniform(10, 50), (float)random.Uniform(6, 30), dirt);
        }
        // Specks of grime, which look like pits from a distance.
        int specks = random.NextDouble() < 0.4 ? random.Next(5, 40) : 0;
        using (var speck = new SKPaint { Color = Drawing.Hsv(random.Uniform(0, 40), random.Uniform(0, 0.4), random.Uniform(0.1, 0.3), 0.8), IsAntialias = true })
            for (int i = 0; i < specks; i++)
                canvas.DrawCircle((float)random.NextDouble() * width, (float)random.NextDouble() * height, (float)random.Uniform(0.5, 1.4), speck);
        int scratches = random.Next(0, 5);
        for (int i = 0; i < scratches; i++)
        {
            using var scratch = new SKPaint
            {
                Color = Drawing.Grey(random.NextDouble() < 0.6 ? 0.95 : 0.3, random.Uniform(0.3, 0.7)), StrokeWidth = (float)random.Uniform(0.6, 1.4), IsAntialias = true,
            };
            float x = (float)random.NextDouble() * width, y = (float)random.NextDouble() * height;
            double a = random.Uniform(0, Math.PI), length = random.Uniform(15, 90);
            canvas.DrawLine(x, y, x + (float)(Math.Cos(a) * length), y + (float)(Math.Sin(a) * length), scratch);
        }
        if (random.NextDouble() < 0.2)
        {
            // Primer or livery paint: yellow-green zinc chromate, white or grey, with hard edges.
            var paint = random.Next(3) switch
            {
                0 => Drawing.Hsv(random.Uniform(60, 80), random.Uniform(0.4, 0.6), random.Uniform(0.55, 0.75)),
                1 => Drawing.Grey(random.Uniform(0.88, 0.97)),
                _ => Drawing.Grey(random.Uniform(0.35, 0.5)),
            };
            using var fill = new SKPaint { Color = paint, IsAntialias = true };
            float x = (float)random.NextDouble() * width, y = (float)random.NextDouble() * height;
            canvas.DrawRect(x, y, (float)random.Uniform(20, 120), (float)random.Uniform(15, 80), fill);
        }
    }

    // A rust blotch: overlapping soft patches in rust hues, dark pits inside, sometimes a streak running down.
    private static void Rust(SKCanvas canvas, Random random, SKPoint centre, double severity, int height)
    {
        double radius = random.Uniform(3, 8) + severity * random.Uniform(6, 24);
        int patches = 4 + (int)(severity * 24);
        for (int i = 0; i < patches; i++)
        {
            var colour = Drawing.Hsv(random.Uniform(12, 32), random.Uniform(0.35, 0.85), random.Uniform(0.3, 0.72), random.Uniform(0.2, 0.45) + 0.4 * severity);
            using var patch = Drawing.Soft(colour, random.Uniform(0.8, 2.5));
            float dx = (float)random.Gaussian(0, radius / 2), dy = (float)random.Gaussian(0, radius / 2);
            float r = (float)(radius * random.Uniform(0.15, 0.5));
            canvas.DrawOval(centre.X + dx, centre.Y + dy, r, r * (float)random.Uniform(0.6, 1.2), patch);
        }
        int pits = 4 + (int)(severity * 50);
        using (var pit = new SKPaint { Color = Drawing.Hsv(20, 0.6, random.Uniform(0.1, 0.22), 0.85), IsAntialias = true })
            for (int i = 0; i < pits; i++)
                canvas.DrawCircle(centre.X + (float)random.Gaussian(0, radius / 2.2), centre.Y + (float)random.Gaussian(0, radius / 2.2),
                    (float)random.Uniform(0.6, 1.6), pit);
        if (random.NextDouble() < 0.35)
        {
            float length = (float)random.Uniform(15, 45) * (float)(0.5 + severity), w = (float)radius * 0.5f;
            using var streak = new SKPaint
            {
                IsAntialias = true,
                Shader = SKShader.CreateLinearGradient(centre, new SKPoint(centre.X, Math.Min(height, centre.Y + length)),
                    [Drawing.Hsv(22, 0.7, 0.45, 0.6 * severity + 0.2), Drawing.Hsv(22, 0.7, 0.45, 0)], SKShaderTileMode.Clamp),
                MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 1.5f),
            };
            canvas.DrawRect(centre.X - w / 2, centre.Y, w, length, streak);
        }
    }
}
