/** Every item of a paginated IoT list call: `fetch` gets the previous page's token and returns items and the next. */
export async function collectPages<T>(
  fetch: (token: string | undefined) => Promise<{ readonly items?: readonly T[]; readonly next?: string }>,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    items.push(...(page.items ?? []));
    token = page.next;
  } while (token);
  return items;
}
