import type { Space } from '../space.js'
import type { Observer } from './model.js'

/** What the model reads from a replica: its raw registers, bodies, visible order and quantities. */
export const observeSpace = (space: Space): Observer => ({
  register: (map, key) => space.engine.get(map, key),
  body: (noteId) => space.engine.text(noteId),
  order: () => space.items().map((i) => i.key),
  quantity: (key) => space.items().find((i) => i.key === key)?.quantity ?? 0,
})
