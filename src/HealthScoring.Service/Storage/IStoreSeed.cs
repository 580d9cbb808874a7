namespace HealthScoring.Service.Storage;

/// <summary>Data the store must hold before the service is ready (run after every successful migration).</summary>
internal interface IStoreSeed
{
    Task EnsureAsync(CancellationToken cancellationToken);
}
