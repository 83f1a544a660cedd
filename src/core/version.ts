import { readFileSync } from 'node:fs';

// Read once: the version is carried into every OCSF event's metadata.product.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const PRODUCT_NAME = 'Paddock';
export const PRODUCT_VENDOR = 'Paddock Project';
export const PRODUCT_VERSION: string = pkg.version;
