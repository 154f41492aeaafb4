/** esbuild bundles CSS imported for its side effect (main.tsx imports styles.css); it exports nothing. */
declare module '*.css';
