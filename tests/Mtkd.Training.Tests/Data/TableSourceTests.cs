using Mtkd.Training.Data;

namespace Mtkd.Training.Tests.Data;

public sealed class TableSourceTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mtkd-table-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(root, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void Rows_become_feature_vectors_with_classes_in_numeric_order_and_the_given_splits()
    {
        var path = Write("t.csv", "a,label,b,split", "1,10,2,train", "3,2,4,train", "5,,6,train", "7,10,8,test", "0.5,2,1e-3,val");
        var source = TableSource.Open(path, "Label");

        Assert.Equal(["2", "10"], source.ClassNames); // numbers in numeric order, not "10" before "2"
        Assert.Equal(["a", "b"], source.FeatureNames);
        Assert.True(source.SplitsGiven);
        var train = source.Load("train", source.NativeFormat!);
        Assert.Equal((2, 1, 1), (train.Channels, train.Height, train.Width));
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], train.ReadAllPixels());
        Assert.Equal([1, 0, ImageDataset.Unlabeled], train.Labels); // an empty label is an unlabelled row
        Assert.Equal([0.5f, 0.001f], source.Load("val", source.NativeFormat!).ReadAllPixels());
        Assert.Equal([1], source.Load("test", source.NativeFormat!).Labels);
    }

    [Fact]
    public void Without_a_split_column_a_fifth_of_each_class_is_the_test_split_the_same_every_time()
    {
        var lines = new[] { "x,y" }.Concat(Enumerable.Range(0, 50).Select(i => $"{i},{(i % 2 == 0 ? "cat" : "dog")}")).ToArray();
        var path = Write("t.csv", lines);
        var first = TableSource.Open(path, "y");
        var test = first.Load("test", first.NativeFormat!);
        Assert.Equal(10, test.Count);
        Assert.Equal(5, test.Labels.Count(l => l == 0));
        Assert.Equal(test.ReadAllPixels(), TableSource.Open(path, "y").Load("test", first.NativeFormat!).ReadAllPixels());
        Assert.Equal(["cat", "dog"], first.ClassNames);
    }

    [Theory]
    [InlineData("a,y|1,0|x,1", "line 3, column 'a': 'x' is not a finite number")]
    [InlineData("a,y|1,0|NaN,1", "line 3, column 'a': 'NaN' is not a finite number")]
    [InlineData("a,y|1,0|2", "line 3: 1 values; the header has 2 columns")]
    [InlineData("a,y|1,0|2,0", "has 1 class(es)")]
    [InlineData("a,y,split|1,0,train|2,1,holdout", "line 3, column 'split': 'holdout'; expected train, val or test")]
    [InlineData("y|0|1", "no feature columns besides the label 'y'")]
    public void Bad_tables_are_refused_naming_the_file_line_and_column(string content, string expected)
    {
        var path = Write("bad.csv", content.Split('|'));
        var error = Assert.Throws<InvalidDataException>(() => TableSource.Open(path, "y"));
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }
}
