/**
 * The crash test's child: ingests one source's positions 1..`until` into a DuckDB file in batches
 * of random size, resuming from the stored offset. Like a source after a crash, it redelivers the
 * last `redeliver` positions before the offset, which bronze must skip.
 *
 *   node --conditions=@causeway/source --import tsx ingest-loop.ts <file> <until> <redeliver>
 *
 * Prints `resumed <offset>` once open, and `first <appended> <skipped>` once a batch appended
 * something new (`skipped`: the redelivered changes bronze skipped until then).
 */
import { openLakehouse } from '../../lakehouse.ts';
import { createBronze } from '../bronze.ts';
import { changesBetween } from './changes.ts';

const [file, untilText, redeliverText] = process.argv.slice(2);
const until = BigInt(untilText ?? '1000');
const redeliver = BigInt(redeliverText ?? '0');
const source = 'orders';

const lakehouse = await openLakehouse({ path: file! });
const bronze = createBronze({ lakehouse });
const offset = (await bronze.offsetOf(source))?.position ?? 0n;
process.stdout.write(`resumed ${offset}\n`);
let next = offset + 1n - redeliver > 1n ? offset + 1n - redeliver : 1n;
let first = true;
let skipped = 0;
while (next <= until) {
  const size = BigInt(1 + Math.floor(Math.random() * 40));
  const last = next + size - 1n < until ? next + size - 1n : until;
  const result = await bronze.ingest({
    source,
    changes: changesBetween(next, last, source),
    position: last,
    cursor: `at-${last}`,
  });
  skipped += result.skipped;
  if (first && result.appended > 0) {
    // Past the redelivered positions and something new committed: a kill from now on loses progress.
    process.stdout.write(`first ${result.appended} ${skipped}\n`);
    first = false;
  }
  next = last + 1n;
}
await lakehouse.close();
process.stdout.write('done\n');
