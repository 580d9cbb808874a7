namespace HealthScoring.Validation;

/// <summary>
/// ROC AUC by the rank-sum (Mann-Whitney U) formula: the probability that a random positive has a higher
/// risk than a random negative, ties counting one half (tied risks share their average rank).
/// </summary>
public static class RocAuc
{
    /// <summary>AUC of <paramref name="risk"/> (higher = more likely positive); NaN when a class is empty.</summary>
    public static double Compute(IReadOnlyList<double> risk, IReadOnlyList<bool> positive)
    {
        if (risk.Count != positive.Count)
        {
            throw new ArgumentException("risk and positive must have the same length.", nameof(positive));
        }

        var order = Enumerable.Range(0, risk.Count).OrderBy(i => risk[i]).ToArray();
        double positiveRankSum = 0;
        long positives = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && risk[order[end + 1]].Equals(risk[order[start]]))
            {
                end++;
            }

            // Ranks are 1-based: the tie group start..end shares the mean of ranks start+1..end+1.
            var averageRank = (start + end + 2) / 2.0;
            for (var k = start; k <= end; k++)
            {
                if (positive[order[k]])
                {
                    positiveRankSum += averageRank;
                    positives++;
                }
            }

            start = end + 1;
        }

        long negatives = risk.Count - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        return (positiveRankSum - positives * (positives + 1) / 2.0) / (positives * (double)negatives);
    }
}
