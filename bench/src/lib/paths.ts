import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const REPO_DIR = resolve(BENCH_DIR, '..')
export const PEERS_DIR = join(BENCH_DIR, 'peers')
export const DATA_DIR = join(BENCH_DIR, 'data')
