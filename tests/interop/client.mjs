// Interop client: drives the HealthScoring gRPC service with @grpc/grpc-js, a real third-party client.
//
// Input: one JSON scenario spec, as the first argument or (when there is none) on stdin:
//   {
//     "address": "127.0.0.1:5001",          // host:port of the gRPC endpoint (cleartext HTTP/2)
//     "apiKey": "secret" | null,            // sent as 'authorization: Bearer <key>'; null sends no key
//     "scenario": "ingest",                 // see SCENARIOS below
//     "events": [UsageEvent],               // ingest: the batch
//     "batches": [[UsageEvent]],            // ingest-stream: one IngestRequest per entry
//     "pauseMs": 0,                         // ingest-stream: wait before each message after the first
//     "deadlineMs": 30000,                  // client deadline of the call (default 30 s; null: none)
//     "compression": "gzip",                // optional: channel option grpc.default_compression_algorithm = 2
//     "method": "/pkg.Service/Method"       // unknown-method: the path called
//   }
// A UsageEvent is the proto message with its proto field names (event_id, account_id, user_id, name,
// occurred_at, quantity, properties); occurred_at is an RFC 3339 string (or absent for "not set").
//
// Output: ONE JSON line on stdout saying what grpc-js saw:
//   {scenario, code, codeName, details, response, trailers, headers, messagesSent}
// response is null unless the call returned a message; for ingestion it is
// {accepted, duplicates, rejected: [{index, eventId, field, reason}]}, for the health check {status}.
// This script never asserts: the NUnit tests (GrpcJsInteropTests) do. It exits non-zero only when it
// could not run the scenario at all (bad spec, protos not found), with the reason on stderr.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const protosDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'protos');

const loaderOptions = {
  keepCase: true, // proto field names (event_id) on the wire objects
  longs: String, // Timestamp.seconds is int64
  enums: String, // HealthCheckResponse.status as "SERVING"
  defaults: true, // accepted/duplicates present even when 0
  arrays: true, // rejected present even when empty
  objects: true,
  oneofs: true,
  // proto-loader resolves google/protobuf/timestamp.proto from the well-known types it ships.
  includeDirs: [protosDir],
};

const SCENARIOS = {
  ingest: runIngest,
  'ingest-stream': runIngestStream,
  'health-check': runHealthCheck,
  'unknown-method': runUnknownMethod,
};

function readSpec() {
  const text = process.argv[2] ?? readFileSync(0, 'utf8');
  const spec = JSON.parse(text);
  if (typeof spec.address !== 'string' || !spec.address) {
    throw new Error('spec.address (host:port) is required');
  }

  if (!(spec.scenario in SCENARIOS)) {
    throw new Error(`unknown scenario '${spec.scenario}'; known: ${Object.keys(SCENARIOS).join(', ')}`);
  }

  return spec;
}

function loadPackage(file) {
  const definition = protoLoader.loadSync(join(protosDir, file), loaderOptions);
  return { definition, package: grpc.loadPackageDefinition(definition) };
}

function channelOptions(spec) {
  const options = {};
  if (spec.compression === 'gzip') {
    options['grpc.default_compression_algorithm'] = 2; // compressionAlgorithms.gzip
  } else if (spec.compression) {
    throw new Error(`unsupported compression '${spec.compression}'`);
  }

  return options;
}

function metadataFor(spec) {
  const metadata = new grpc.Metadata();
  if (spec.apiKey) {
    metadata.set('authorization', `Bearer ${spec.apiKey}`);
  }

  return metadata;
}

function callOptions(spec) {
  // null: no deadline at all (grpc-js then sends no grpc-timeout).
  return spec.deadlineMs === null ? {} : { deadline: new Date(Date.now() + (spec.deadlineMs ?? 30_000)) };
}

function toTimestamp(value) {
  if (value === undefined || value === null) {
    return null;
  }

  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new Error(`occurred_at '${value}' is not an RFC 3339 time`);
  }

  return { seconds: String(Math.floor(ms / 1000)), nanos: (((ms % 1000) + 1000) % 1000) * 1_000_000 };
}

function toWireEvent(e) {
  return {
    event_id: e.event_id ?? '',
    account_id: e.account_id ?? '',
    user_id: e.user_id ?? '',
    name: e.name ?? '',
    occurred_at: toTimestamp(e.occurred_at),
    quantity: e.quantity ?? 0,
    properties: e.properties ?? {},
  };
}

function toRequest(events) {
  return { events: (events ?? []).map(toWireEvent) };
}

function ingestSummary(response) {
  return {
    accepted: response.accepted,
    duplicates: response.duplicates,
    rejected: response.rejected.map((r) => ({ index: r.index, eventId: r.event_id, field: r.field, reason: r.reason })),
  };
}

function metadataObject(metadata) {
  const result = {};
  for (const [key, values] of Object.entries(metadata?.getMap() ?? {})) {
    result[key] = Buffer.isBuffer(values) ? values.toString('base64') : String(values);
  }

  return result;
}

/**
 * Runs one grpc-js call and resolves with what the client saw once the call's status arrived.
 * start(callback) must start the call and return it; the status event carries code, details and
 * trailing metadata for successes and failures alike.
 */
function observe(start, summarize) {
  return new Promise((resolve) => {
    let response = null;
    let status = null;
    let headers = {};
    let finished = false;
    const finish = () => {
      if (finished || status === null) {
        return;
      }

      finished = true;
      resolve({
        code: status.code,
        codeName: grpc.status[status.code] ?? 'UNKNOWN_CODE',
        details: status.details,
        response: response === null ? null : summarize(response),
        trailers: metadataObject(status.metadata),
        headers,
      });
    };

    // grpc-js reports the status both to the callback (as err or after the response) and as the
    // 'status' event; the callback may come second, so both paths end in finish().
    let callbackDone = false;
    const call = start((err, value) => {
      callbackDone = true;
      if (!err) {
        response = value;
      }

      finish();
    });
    call.on('metadata', (m) => {
      headers = metadataObject(m);
    });
    call.on('status', (s) => {
      status = s;
      if (callbackDone) {
        finish();
      }
    });
  });
}

async function runIngest(spec) {
  const { package: pkg } = loadPackage('healthscoring/v1/ingestion.proto');
  const client = new pkg.healthscoring.v1.IngestionService(spec.address, grpc.credentials.createInsecure(), channelOptions(spec));
  try {
    const request = toRequest(spec.events);
    const seen = await observe(
      (callback) => client.Ingest(request, metadataFor(spec), callOptions(spec), callback),
      ingestSummary,
    );
    return { ...seen, messagesSent: 1 };
  } finally {
    client.close();
  }
}

async function runIngestStream(spec) {
  const { package: pkg } = loadPackage('healthscoring/v1/ingestion.proto');
  const client = new pkg.healthscoring.v1.IngestionService(spec.address, grpc.credentials.createInsecure(), channelOptions(spec));
  const batches = spec.batches ?? [];
  const pauseMs = spec.pauseMs ?? 0;
  let sent = 0;
  let ended = false;
  let timer = null;
  try {
    const seen = await observe((callback) => {
      const call = client.IngestStream(metadataFor(spec), callOptions(spec), (err, value) => {
        ended = true;
        clearTimeout(timer);
        callback(err, value);
      });
      // Sends the batches one after another (pausing between them when asked), then half-closes,
      // unless the call already ended (deadline, server error).
      const sendNext = () => {
        if (ended) {
          return;
        }

        if (sent === batches.length) {
          call.end();
          return;
        }

        call.write(toRequest(batches[sent]));
        sent += 1;
        timer = setTimeout(sendNext, sent < batches.length ? pauseMs : 0);
      };
      sendNext();
      return call;
    }, ingestSummary);
    return { ...seen, messagesSent: sent };
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

async function runHealthCheck(spec) {
  const { package: pkg } = loadPackage('grpc/health/v1/health.proto');
  const client = new pkg.grpc.health.v1.Health(spec.address, grpc.credentials.createInsecure(), channelOptions(spec));
  try {
    const seen = await observe(
      (callback) => client.Check({ service: spec.service ?? '' }, metadataFor(spec), callOptions(spec), callback),
      (response) => ({ status: response.status }),
    );
    return { ...seen, messagesSent: 1 };
  } finally {
    client.close();
  }
}

/** A generic unary call (no stub) to a path the service does not serve, with an IngestRequest body. */
async function runUnknownMethod(spec) {
  const { definition } = loadPackage('healthscoring/v1/ingestion.proto');
  const ingest = definition['healthscoring.v1.IngestionService'].Ingest;
  const client = new grpc.Client(spec.address, grpc.credentials.createInsecure(), channelOptions(spec));
  try {
    const request = toRequest(spec.events);
    const seen = await observe(
      (callback) => client.makeUnaryRequest(
        spec.method ?? '/healthscoring.v1.IngestionService/Nope',
        ingest.requestSerialize,
        ingest.responseDeserialize,
        request,
        metadataFor(spec),
        callOptions(spec),
        callback,
      ),
      ingestSummary,
    );
    return { ...seen, messagesSent: 1 };
  } finally {
    client.close();
  }
}

let spec;
try {
  spec = readSpec();
} catch (error) {
  process.stderr.write(`client.mjs: bad scenario spec: ${error.message}\n`);
  process.exit(2);
}

try {
  const seen = await SCENARIOS[spec.scenario](spec);
  process.stdout.write(`${JSON.stringify({ scenario: spec.scenario, ...seen })}\n`);
} catch (error) {
  process.stderr.write(`client.mjs: scenario '${spec.scenario}' could not run: ${error.stack ?? error}\n`);
  process.exit(1);
}
