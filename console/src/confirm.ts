/** Asks before a destructive action, in the page's modal dialog (focus stays inside it; Escape keeps things as they are). */
export const confirmAction = (title: string, text: string, yes: string): Promise<boolean> => {
  const dialog = document.getElementById('confirm') as HTMLDialogElement;
  document.getElementById('confirm-title')!.textContent = title;
  document.getElementById('confirm-text')!.textContent = text;
  document.getElementById('confirm-yes')!.textContent = yes;
  dialog.returnValue = '';
  dialog.showModal();
  document.getElementById('confirm-no')!.focus();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
};

/** Says something to screen readers (and to the test) without moving focus. */
export const announce = (text: string): void => {
  const region = document.getElementById('announce')!;
  region.textContent = text;
};
