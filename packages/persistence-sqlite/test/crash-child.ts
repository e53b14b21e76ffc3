// Run by the crash test: `node --import tsx test/crash-child.ts <db-file> <count>`. Appends `count`
// single updates one by one and prints "<index> <seq>" after each append's promise resolves, so
// every printed line is an append the adapter reported as durable.
import { SqlitePersistence } from '../src/index.js'
import { crashUpdate } from './crash-update.js'

const [file, countArg] = process.argv.slice(2)
if (!file) throw new Error('usage: crash-child.ts <db-file> [count]')
const count = Number(countArg ?? 200)

const persistence = new SqlitePersistence({ file })
for (let i = 0; i < count; i++) {
  const seq = await persistence.append('crash', [crashUpdate(i)])
  process.stdout.write(`${i} ${seq}\n`)
}
await persistence.close()
