// Sends usage events to HealthScoring over gRPC with @grpc/grpc-js, as a product backend would.
//
//   node examples/node/send-events.mjs --key <api key with the ingest scope> [--address localhost:8081]
//        [--account acme] [--events 20]
//
// Prints the IngestResponse (accepted, duplicates, rejected with reasons) as JSON. Run it twice:
// the second run reports every event as a duplicate, because event ids are the idempotency key.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const { values: args } = parseArgs({
  options: {
    address: { type: 'string', default: 'localhost:8081' },
    key: { type: 'string' },
    account: { type: 'string', default: 'acme' },
    events: { type: 'string', default: '20' },
  },
});
if (!args.key) {
  console.error('--key is required: an API key with the ingest scope');
  process.exit(2);
}

const protos = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../protos');
const definition = protoLoader.loadSync('healthscoring/v1/ingestion.proto', {
  includeDirs: [protos], keepCase: true, longs: Number, enums: String, defaults: true,
});
const { IngestionService } = grpc.loadPackageDefinition(definition).healthscoring.v1;
const client = new IngestionService(args.address, grpc.credentials.createInsecure());

const now = Date.now();
const names = ['login', 'report.viewed', 'report.exported', 'dashboard.shared'];
const events = Array.from({ length: Number(args.events) }, (_, i) => ({
  event_id: `example-${args.account}-${i}`, // stable ids: a retry is recognised, never counted twice
  account_id: args.account,
  user_id: `user-${i % 4}`,
  name: names[i % names.length],
  occurred_at: { seconds: Math.floor((now - i * 60_000) / 1000), nanos: 0 },
  quantity: 1,
  properties: { source: 'example' },
}));

const metadata = new grpc.Metadata();
metadata.set('authorization', `Bearer ${args.key}`);
client.Ingest({ events }, metadata, { deadline: Date.now() + 10_000 }, (error, response) => {
  if (error) {
    console.error(`gRPC status ${error.code}: ${error.details}`);
    process.exit(1);
  }
  console.log(JSON.stringify(response));
  client.close();
});
