namespace HealthScoring.Validation.Kdd;

/// <summary>
/// Reads plain CSV: a header line, comma-separated fields, no quoting (the KDD files have none; a quote is
/// rejected rather than misread). Fields are looked up by header name, so column order does not matter.
/// </summary>
public sealed class CsvFile
{
    private readonly Dictionary<string, int> _columns;

    private CsvFile(string path, string[] header, List<(int Line, string[] Fields)> rows)
    {
        Path = path;
        _columns = header.Select((h, i) => (h, i)).ToDictionary(x => x.h, x => x.i, StringComparer.Ordinal);
        Rows = rows;
    }

    public string Path { get; }

    /// <summary>The data rows with their 1-based line numbers in the file.</summary>
    public IReadOnlyList<(int Line, string[] Fields)> Rows { get; }

    public static CsvFile Read(string path, params string[] requiredColumns)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine()?.TrimStart('\uFEFF').Split(',').Select(h => h.Trim()).ToArray()
            ?? throw new InvalidDataException($"{path}: empty file, expected a header line.");
        var missing = requiredColumns.Except(header, StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"{path}: missing column(s) {string.Join(", ", missing)}.");
        }

        var rows = new List<(int, string[])>();
        var lineNumber = 1;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            if (line.Contains('"', StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: quoted fields are not supported.");
            }

            var fields = line.Split(',');
            if (fields.Length != header.Length)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: {fields.Length} fields, the header has {header.Length}.");
            }

            rows.Add((lineNumber, fields));
        }

        return new CsvFile(path, header, rows);
    }

    public string Get(string[] fields, string column) => fields[_columns[column]].Trim();
}
