using System.Text;

namespace Mtkd.Training.Data;

/// <summary>
/// Reads a delimited text file by RFC 4180: a field in double quotes may hold the separator, line breaks and doubled
/// quotes (<c>"cat/a,b ""q"".png"</c>); records end at an unquoted line break. The file must be UTF-8: invalid bytes
/// (a Latin-1 export, say) are refused naming the line, instead of becoming a garbled label.
/// </summary>
internal static class CsvRecords
{
    /// <summary>Every record of the file, with the line it starts on (1-based); blank lines are skipped.</summary>
    public static List<(int Line, string[] Fields)> Read(string path, char separator)
    {
        var text = Utf8Text(path);
        var records = new List<(int, string[])>();
        var fields = new List<string>();
        var field = new StringBuilder();
        int line = 1, recordLine = 1, i = 0;
        bool quoted = false, fieldStarted = false;
        while (i < text.Length)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                if (c == '"') { quoted = false; i++; continue; }
                if (c == '\n') line++;
                field.Append(c);
                i++;
                continue;
            }
            if (c == '"' && !fieldStarted && field.Length == 0) { quoted = true; fieldStarted = true; i++; continue; }
            if (c == separator) { fields.Add(field.ToString()); field.Clear(); fieldStarted = false; i++; continue; }
            if (c is '\r' or '\n')
            {
                EndRecord();
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                i++;
                line++;
                recordLine = line;
                continue;
            }
            field.Append(c);
            fieldStarted = true;
            i++;
        }
        if (quoted)
            throw new InvalidDataException($"{path}, line {recordLine}: a quoted field is not closed; a field in double quotes ends with a double quote (\"\" inside it is one quote).");
        EndRecord();
        return records;

        void EndRecord()
        {
            fields.Add(field.ToString());
            field.Clear();
            fieldStarted = false;
            if (fields.Count > 1 || fields[0].Length > 0)
                records.Add((recordLine, fields.ToArray()));
            fields.Clear();
        }
    }

    // The file as UTF-8 (a byte-order mark allowed), or the first line holding bytes that are not UTF-8, named.
    private static string Utf8Text(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        try
        {
            var text = strict.GetString(bytes);
            return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        }
        catch (DecoderFallbackException)
        {
            int line = 1, start = 0;
            for (int i = 0; i <= bytes.Length; i++)
            {
                if (i < bytes.Length && bytes[i] != (byte)'\n') continue;
                try
                {
                    strict.GetString(bytes, start, i - start);
                }
                catch (DecoderFallbackException)
                {
                    break;
                }
                line++;
                start = i + 1;
            }
            throw new InvalidDataException($"{path}, line {line}: not UTF-8 text (a Latin-1 or other legacy encoding?); save the manifest as UTF-8.");
        }
    }
}
