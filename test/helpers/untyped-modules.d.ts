// The test-only libraries that ship no type declarations: read as `any`.
declare module 'samlp';
declare module 'oidc-provider' {
  type Provider = any;
  const Provider: any;
  export default Provider;
}
