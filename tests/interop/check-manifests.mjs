// Parses the deployment files (Docker Compose, the collector config, the Kubernetes manifests) and prints what
// they declare as JSON; DeploymentManifestTests asserts on it. No Docker or cluster is needed: this checks that
// every file is valid YAML with the shape its tool expects.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const root = process.argv[2];
const files = [
  join(root, 'deploy', 'docker-compose.yml'),
  join(root, 'deploy', 'otel-collector.yaml'),
  ...readdirSync(join(root, 'deploy', 'k8s')).filter(f => f.endsWith('.yaml')).map(f => join(root, 'deploy', 'k8s', f)),
];
const out = {};
for (const file of files) {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const errors = docs.flatMap(d => d.errors.map(e => e.message));
  out[file.slice(root.length + 1)] = { errors, documents: docs.map(d => d.toJS()) };
}
console.log(JSON.stringify(out));
