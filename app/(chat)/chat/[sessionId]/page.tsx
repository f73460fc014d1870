// The chat shell (layout) reads the session id from the URL and renders the chat.
export default function ChatPage() {
  return null;
}
