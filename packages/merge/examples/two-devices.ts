// Two devices edit one space offline, then exchange what the other lacks. Run: pnpm demo
import { createSpace, loadEngine, openSpace } from '@converge/merge'

await loadEngine('automerge')

for (const engine of ['yjs', 'automerge'] as const) {
  const phone = createSpace({ engine, name: 'Flat 3B' })
  const laptop = openSpace({ engine, spaceId: phone.id, state: phone.encodeStateAsUpdate() })

  // offline on both: the same item added twice, an increment each, a note typed on both
  phone.addItem('Milk')
  laptop.addItem('  milk ')
  phone.increment('milk')
  laptop.increment('milk')
  const note = phone.createNote({ title: 'Party', body: 'Bring ' })
  laptop.applyUpdate(phone.encodeStateAsUpdate(laptop.stateVector()))
  phone.editNote(note, 6, 0, 'chips')
  laptop.editNote(note, 6, 0, 'dip')

  // back online: each sends what the other lacks, by state vector
  laptop.applyUpdate(phone.encodeStateAsUpdate(laptop.stateVector()))
  phone.applyUpdate(laptop.encodeStateAsUpdate(phone.stateVector()))

  console.log(
    engine,
    phone.items().map((i) => `${i.name} ×${i.quantity}`),
    JSON.stringify(phone.note(note)?.body),
  )
  console.log(engine, 'converged:', JSON.stringify(phone.snapshot()) === JSON.stringify(laptop.snapshot()))
}
