import type { Results } from './lib/results.js'

export interface Evaluation {
  readonly measured: string
  readonly met: boolean | undefined
  readonly reason: string
}
export interface Target {
  readonly name: string
  readonly threshold: string
  evaluate(r: Results): Evaluation
}

export const TARGETS: Target[] = []
