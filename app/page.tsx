export default function Home() {
  return <main style={{ padding: 24 }}>Backchannel</main>;
}
