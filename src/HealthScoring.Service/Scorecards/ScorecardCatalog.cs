using HealthScoring.Scoring.Scorecards;

namespace HealthScoring.Service.Scorecards;

/// <summary>
/// The current scorecards, held in memory for scoring. Reloaded after a change made here, and at least every
/// <see cref="MaxAge"/> so a change made on another replica is picked up.
/// </summary>
internal sealed class ScorecardCatalog(ScorecardRepository repository, TimeProvider clock)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (IReadOnlyList<Scorecard> Cards, DateTimeOffset LoadedAt)? _current;

    public async Task<IReadOnlyList<Scorecard>> CurrentAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current && clock.GetUtcNow() - current.LoadedAt < MaxAge)
        {
            return current.Cards;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } again && clock.GetUtcNow() - again.LoadedAt < MaxAge)
            {
                return again.Cards;
            }

            var cards = (await repository.ListCurrentAsync(cancellationToken)).Select(v => v.Scorecard).ToList();
            _current = (cards, clock.GetUtcNow());
            return cards;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Invalidate() => _current = null;
}
