// jasmine-core ships no types; tfjs-core-suite-child.ts needs only `boot`, which installs Jasmine's
// globals (describe, it, expect, jasmine) and returns the jasmine object.
declare module 'jasmine-core' {
  const jasmineRequire: { boot(): unknown };
  export default jasmineRequire;
}
