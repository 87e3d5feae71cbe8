using System.Globalization;
using Mtkd.Training;
using SkiaSharp;

namespace Mtkd.Samples.Images;

/// <summary>One curve of a chart, with an optional marked point (the chosen threshold).</summary>
public sealed record CurveSeries(string Name, IReadOnlyList<(double X, double Y)> Points, SKColor Color, (double X, double Y)? Marker = null);

/// <summary>A test image with what the model said of it.</summary>
public sealed record GridItem(string Path, string Truth, string Predicted, double Probability);

/// <summary>
/// The samples' PNG figures, drawn with SkiaSharp directly: ScottPlot needs SkiaSharp 3, and ML.NET's image
/// transforms, which these samples use, need SkiaSharp 2.
/// </summary>
public static class SamplePlots
{
    // DejaVu Sans where installed (Debian's fonts-dejavu-core); Skia's default face otherwise.
    private static readonly SKTypeface Typeface = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;

    private const int ChartWidth = 640, ChartHeight = 520, Left = 70, Right = 20, Top = 40, Bottom = 60;

    /// <summary>A unit-square chart (both axes 0–1): ROC or precision-recall curves.</summary>
    public static void Curves(string path, string title, string xLabel, string yLabel, IReadOnlyList<CurveSeries> series, bool diagonal)
    {
        using var surface = SKSurface.Create(new SKImageInfo(ChartWidth, ChartHeight));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        float plotW = ChartWidth - Left - Right, plotH = ChartHeight - Top - Bottom;
        SKPoint At(double x, double y) => new(Left + (float)x * plotW, Top + (1 - (float)y) * plotH);

        using var grid = new SKPaint { Color = new SKColor(225, 225, 225), StrokeWidth = 1 };
        for (int i = 0; i <= 5; i++)
        {
            double v = i / 5.0;
            canvas.DrawLine(At(v, 0), At(v, 1), grid);
            canvas.DrawLine(At(0, v), At(1, v), grid);
            string label = v.ToString("0.0", CultureInfo.InvariantCulture);
            Text(canvas, label, At(v, 0).X, At(v, 0).Y + 18, SKTextAlign.Center, 13);
            Text(canvas, label, Left - 8, At(0, v).Y + 5, SKTextAlign.Right, 13);
        }
        using var frame = new SKPaint { Color = SKColors.Black, Style = SKPaintStyle.Stroke, StrokeWidth = 1 };
        canvas.DrawRect(Left, Top, plotW, plotH, frame);
        if (diagonal)
        {
            using var dashed = new SKPaint { Color = SKColors.Gray, StrokeWidth = 1, PathEffect = SKPathEffect.CreateDash([6, 4], 0), IsAntialias = true };
            canvas.DrawLine(At(0, 0), At(1, 1), dashed);
        }
        Text(canvas, title, ChartWidth / 2f, 26, SKTextAlign.Center, 16, bold: true);
        Text(canvas, xLabel, Left + plotW / 2, ChartHeight - 18, SKTextAlign.Center, 13);
        canvas.Save();
        canvas.RotateDegrees(-90, 18, Top + plotH / 2);
        Text(canvas, yLabel, 18, Top + plotH / 2, SKTextAlign.Center, 13);
        canvas.Restore();

        for (int s = 0; s < series.Count; s++)
        {
            var curve = series[s];
            using var pen = new SKPaint { Color = curve.Color, StrokeWidth = 2.5f, Style = SKPaintStyle.Stroke, IsAntialias = true };
            using (var line = new SKPath())
            {
                line.MoveTo(At(curve.Points[0].X, curve.Points[0].Y));
                foreach (var (x, y) in curve.Points.Skip(1))
                    line.LineTo(At(x, y));
                canvas.DrawPath(line, pen);
            }
            if (curve.Marker is { } m)
            {
                using var dot = new SKPaint { Color = curve.Color, IsAntialias = true };
                canvas.DrawCircle(At(m.X, m.Y), 6, dot);
                canvas.DrawCircle(At(m.X, m.Y), 6, frame);
            }
            // Legend, bottom right inside the plot, one line per series.
            float ly = Top + plotH - 16 - (series.Count - 1 - s) * 20;
            canvas.DrawLine(Left + plotW - 230, ly - 4, Left + plotW - 205, ly - 4, pen);
            Text(canvas, curve.Name, Left + plotW - 198, ly + 1, SKTextAlign.Left, 13);
        }
        Save(surface, path);
    }

    /// <summary>A grid of test images (thumbnails of width/height <paramref name="aspect"/>), each captioned with the probability and the decision; a red frame marks a mistake.</summary>
    public static void Grid(string path, string title, IReadOnlyList<GridItem> items, double aspect, int columns = 6, int thumbWidth = 160)
    {
        if (items.Count == 0) throw new ArgumentException("No images for the grid.", nameof(items));
        int thumbHeight = (int)Math.Round(thumbWidth / aspect), cellW = thumbWidth + 12, cellH = thumbHeight + 44, header = 36;
        int rows = (items.Count + columns - 1) / columns;
        using var surface = SKSurface.Create(new SKImageInfo(columns * cellW + 8, header + rows * cellH + 8));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var smooth = new SKPaint { IsAntialias = true };
        Text(canvas, title, 10, 24, SKTextAlign.Left, 16, bold: true);
        for (int i = 0; i < items.Count; i++)
        {
            var item = items[i];
            float x = 8 + i % columns * cellW, y = header + i / columns * cellH;
            var target = new SKRect(x, y, x + thumbWidth, y + thumbHeight);
            using (var image = SKBitmap.Decode(item.Path))
                if (image is not null)
                    canvas.DrawBitmap(image, target, smooth);
            bool right = item.Truth == item.Predicted;
            using var border = new SKPaint { Color = right ? new SKColor(40, 160, 60) : new SKColor(220, 30, 30), Style = SKPaintStyle.Stroke, StrokeWidth = right ? 2 : 4 };
            canvas.DrawRect(target, border);
            Text(canvas, string.Create(CultureInfo.InvariantCulture, $"p = {item.Probability:0.000} → {item.Predicted}"), x, y + thumbHeight + 16, SKTextAlign.Left, 13);
            Text(canvas, $"truth: {item.Truth}{(right ? "" : "  (wrong)")}", x, y + thumbHeight + 32, SKTextAlign.Left, 13);
        }
        Save(surface, path);
    }

    private static void Text(SKCanvas canvas, string text, float x, float y, SKTextAlign align, float size, bool bold = false)
    {
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true, TextSize = size, TextAlign = align, FakeBoldText = bold, Typeface = Typeface };
        canvas.DrawText(text, x, y, paint);
    }

    private static void Save(SKSurface surface, string path)
    {
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, png.ToArray());
    }
}
