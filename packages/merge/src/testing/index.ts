/**
 * `@converge/merge/testing`: the executable model of the merge contract, for the property tests of
 * this package and for the sync and end-to-end suites. Not for production code paths.
 */
export { ContractModel, Prediction, CART_FIELDS } from './model.js'
export type {
  Command,
  Observer,
  Planned,
  OpId,
  View,
  Value,
  ItemPrediction,
  LifePrediction,
} from './model.js'
export { observeSpace } from './observe.js'
export { type Marker, markerOf } from './markers.js'
