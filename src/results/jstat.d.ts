// jstat ships no type declarations; this declares the one function lcconv uses (default export = jStat).
declare module 'jstat' {
  const jStat: { studentt: { inv(p: number, dof: number): number } };
  export default jStat;
}
