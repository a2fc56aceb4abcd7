// The one place that reads import.meta: where this package's built files are, so that `forks` can
// name the exposition entry by absolute URL. (Jest, which runs the sources as CommonJS, maps this
// file to test/helpers/module-url.cjs, pointing at the built dist/.)

/** The URL of this package's `dist/` directory (ends with `/`). */
export const packageDirectoryUrl: string = new URL(".", import.meta.url).href;
