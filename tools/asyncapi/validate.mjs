// Validates an AsyncAPI document with the AsyncAPI parser (the same checks
// AsyncAPI Studio and the CLI make): prints every problem, exits 1 on an
// error. Usage: node validate.mjs docs/asyncapi.json
import { readFileSync } from 'node:fs';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const path = process.argv[2];
const text = readFileSync(path, 'utf8');
const { document, diagnostics } = await new Parser().parse(text, { source: path });
let errors = 0;
for (const d of diagnostics) {
  const level = d.severity === DiagnosticSeverity.Error ? 'error' : d.severity === DiagnosticSeverity.Warning ? 'warning' : 'note';
  if (level === 'error') errors += 1;
  if (level !== 'note') console.error(`${path}: ${level}: ${d.message} at ${d.path.join('.')}`);
}
if (!document || errors > 0) {
  console.error(`${path}: not a valid AsyncAPI document (${errors} error(s))`);
  process.exit(1);
}
console.error(`${path}: a valid AsyncAPI ${document.version()} document, ${document.allMessages().length} messages`);
