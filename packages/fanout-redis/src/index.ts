export { RedisFanOut, type RedisFanOutEvents, type RedisFanOutOptions } from './redis-fanout.js'
