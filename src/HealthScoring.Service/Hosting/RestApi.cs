using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace HealthScoring.Service.Hosting;

internal static class RestApi
{
    /// <summary>JSON conventions, RFC 7807 problem details for every error, and the OpenAPI document.</summary>
    public static WebApplicationBuilder AddRestApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.ConfigureHttpJsonOptions(json => RestJson.Apply(json.SerializerOptions));
        // Malformed requests reach the exception handler, which says what was wrong (not an empty 400).
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o => o.SwaggerDoc("v1", new() { Title = "HealthScoring", Version = "v1" }));
        return builder;
    }

    public static WebApplication UseRestPipeline(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.Use(Auth.KeyRateLimiter.LimitRestAsync);
        app.UseAuthorization();
        // The OpenAPI document and UI need a key with the read scope too: only health checks are open. They live on
        // their own branch, so the API's requests do not pass the UI's path matching (a regular expression per request).
        app.MapWhen(context => context.Request.Path.StartsWithSegments("/swagger"), swagger =>
        {
            swagger.Use(RequireReadScopeAsync);
            swagger.UseSwagger();
            swagger.UseSwaggerUI();
        });
        return app;
    }

    private static async Task RequireReadScopeAsync(HttpContext context, RequestDelegate next)
    {
        var authorization = context.RequestServices.GetRequiredService<IAuthorizationService>();
        if ((await authorization.AuthorizeAsync(context.User, Auth.Scopes.Read)).Succeeded)
        {
            await next(context);
        }
        else if (context.User.Identity?.IsAuthenticated == true)
        {
            await context.ForbidAsync();
        }
        else
        {
            await context.ChallengeAsync();
        }
    }
}

/// <summary>Maps exceptions to problem details: bad requests say why; anything else is a 500 with a trace id.</summary>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "Bad Request", Explain(bad)),
            // The store is busy or unreachable: a retry later can succeed; nothing of this request was stored.
            System.Data.Common.DbException => (StatusCodes.Status503ServiceUnavailable, "Service Unavailable",
                "The store is busy or unavailable; nothing was changed. Retry later."),
            _ => (StatusCodes.Status500InternalServerError, "Internal Server Error", $"An unexpected error occurred (trace {context.TraceIdentifier})."),
        };
        if (status >= 500)
        {
            LogUnhandled(logger, exception, context.Request.Path);
        }

        context.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "1";
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    private static string Explain(BadHttpRequestException exception) =>
        exception.InnerException is System.Text.Json.JsonException json
            ? $"The request body is not valid JSON for this route: {json.Message}"
            : exception.Message;

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string path);
}
