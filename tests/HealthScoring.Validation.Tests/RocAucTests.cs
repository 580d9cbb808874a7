namespace HealthScoring.Validation.Tests;

public sealed class RocAucTests
{
    [Test]
    public void PerfectSeparation_IsOne()
    {
        var auc = RocAuc.Compute([0.1, 0.2, 0.8, 0.9], [false, false, true, true]);

        Assert.That(auc, Is.EqualTo(1.0));
    }

    [Test]
    public void ReversedSeparation_IsZero()
    {
        var auc = RocAuc.Compute([0.8, 0.9, 0.1, 0.2], [false, false, true, true]);

        Assert.That(auc, Is.EqualTo(0.0));
    }

    [Test]
    public void AllTied_IsOneHalf()
    {
        var auc = RocAuc.Compute([3, 3, 3, 3, 3], [true, false, true, false, false]);

        Assert.That(auc, Is.EqualTo(0.5));
    }

    [Test]
    public void TiedPair_CountsOneHalf()
    {
        // Positives 0.4 and 0.8, negatives 0.1 and 0.4. Pairs: (0.4, 0.1) 1, (0.4, 0.4) 1/2, (0.8, 0.1) 1,
        // (0.8, 0.4) 1 -> 3.5 / 4. By ranks: 0.1 -> 1, both 0.4 -> 2.5, 0.8 -> 4; (2.5 + 4 - 3) / (2 x 2).
        var auc = RocAuc.Compute([0.1, 0.4, 0.4, 0.8], [false, true, false, true]);

        Assert.That(auc, Is.EqualTo(0.875));
    }

    [Test]
    public void UnorderedInputWithTieGroups_MatchesPairCounting()
    {
        double[] risk = [5, 1, 3, 3, 5, 2, 3, 1];
        bool[] positive = [true, false, true, false, false, true, true, false];

        Assert.That(RocAuc.Compute(risk, positive), Is.EqualTo(PairCount(risk, positive)).Within(1e-12));
    }

    [Test]
    public void OneClassOnly_IsNaN()
    {
        Assert.That(RocAuc.Compute([1, 2, 3], [true, true, true]), Is.NaN);
    }

    [Test]
    public void DifferentLengths_Throw()
    {
        Assert.That(() => RocAuc.Compute([1, 2], [true]), Throws.ArgumentException);
    }

    private static double PairCount(double[] risk, bool[] positive)
    {
        double wins = 0;
        var pairs = 0;
        for (var p = 0; p < risk.Length; p++)
        {
            for (var n = 0; n < risk.Length; n++)
            {
                if (positive[p] && !positive[n])
                {
                    pairs++;
                    wins += risk[p] > risk[n] ? 1 : risk[p] == risk[n] ? 0.5 : 0;
                }
            }
        }

        return wins / pairs;
    }
}
