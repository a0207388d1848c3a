// Vite's `?inline` imports (the image fixtures): the file as a base64 data URL.
declare module "*?inline" {
  const dataUrl: string;
  export default dataUrl;
}
