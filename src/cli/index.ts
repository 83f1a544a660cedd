export { main } from './main.ts';
export type { MainIo } from './main.ts';
