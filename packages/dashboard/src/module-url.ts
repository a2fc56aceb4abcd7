// The one place that reads import.meta: where this package's built files are, so that the handler
// finds the UI built into dist/ui. (Jest, which runs the sources as CommonJS, maps this file to
// test/server/helpers/module-url.cjs, pointing at the package's dist/.)

/** The URL of this package's `dist/` directory (ends with `/`). */
export const packageDirectoryUrl: string = new URL(".", import.meta.url).href;
