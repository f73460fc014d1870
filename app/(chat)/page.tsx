// The chat shell (layout) renders the new-chat view when no chat is open.
export default function NewChatPage() {
  return null;
}
