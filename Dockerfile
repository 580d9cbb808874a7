# Multi-stage build of the HealthScoring service.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props HealthScoring.sln ./
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/HealthScoring.Service -c Release -o /app --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app ./
# The non-root user of the .NET images; the SQLite default store lives on the /app/data volume.
RUN mkdir -p /app/data && chown app:app /app/data
USER app
VOLUME /app/data
ENV Kestrel__Endpoints__Rest__Url=http://0.0.0.0:8080 \
    Kestrel__Endpoints__Grpc__Url=http://0.0.0.0:8081 \
    ConnectionStrings__HealthScoring="Data Source=/app/data/healthscoring.db"
EXPOSE 8080 8081
# The runtime image has no curl/wget: bash's /dev/tcp is enough for a liveness probe.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET /healthz HTTP/1.0\r\n\r\n" >&3 && grep -q " 200 " <&3'
ENTRYPOINT ["dotnet", "HealthScoring.Service.dll"]
