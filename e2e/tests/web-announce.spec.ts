/**
 * Changes others make are announced politely (a visually hidden aria-live="polite" region) and their
 * rows briefly highlighted; this device's own changes are not announced.
 */
import { addItem, createSpace, expect, expectSaved, PHONE, shareLinks, test } from '../fixtures/test.js'

test('[WEB-LIVE-1] two devices: Bob adds Milk, Alice hears “Milk added”; her own adds are not announced', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  await a.setViewportSize(PHONE)
  await createSpace(a, 'Shared flat')
  const { write } = await shareLinks(a)
  const bob = await devices.open('Bob')
  const b = bob.page
  await b.goto(write)
  await expect(b.getByTestId('space-name')).toHaveText('Shared flat')
  await expectSaved(b)

  const region = a.getByTestId('remote-activity')
  await expect(region).toHaveAttribute('aria-live', 'polite')
  await expect(region).toHaveText('')

  // Alice's own add: nothing said
  await addItem(a, 'Bread')
  await expectSaved(a)
  await expect(b.locator('li[data-testid="cart-item"][data-name="Bread"]')).toBeVisible()
  await expect(region).toHaveText('')

  // every highlight started on Alice's page, by what it points at
  await a.evaluate(() => {
    const w = window as unknown as { __highlighted: string[] }
    w.__highlighted = []
    // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its element below
    const animate = Element.prototype.animate
    Element.prototype.animate = function (this: Element, ...args: Parameters<Element['animate']>) {
      w.__highlighted.push(this.getAttribute('data-key') ?? this.getAttribute('data-note-id') ?? '?')
      return animate.apply(this, args)
    }
  })
  const highlighted = () => a.evaluate(() => (window as unknown as { __highlighted: string[] }).__highlighted)

  // Bob's add: said on Alice's device, and only there; the new row is highlighted
  await addItem(b, 'Milk')
  await expect(region).toHaveText('Milk added')
  // Bob heard Alice's Bread, not his own Milk
  await expect(b.getByTestId('remote-activity')).toHaveText('Bread added')
  await expect.poll(highlighted).toContain('milk')

  // Bob checks Bread off: named with who did it
  await b.getByRole('checkbox', { name: 'Bought Bread' }).check()
  await expect(region).toHaveText('Bread checked off by Bob')

  // Alice's own add after that: the region still says Bob's change, nothing new
  await addItem(a, 'Eggs')
  await expectSaved(a)
  await expect(b.locator('li[data-testid="cart-item"][data-name="Eggs"]')).toBeVisible()
  await expect(region).toHaveText('Bread checked off by Bob')
  expect(await highlighted()).not.toContain('eggs')
})

test('[WEB-LIVE-2] a burst of changes from others is one announcement, at most one every two seconds', async ({
  devices,
}) => {
  const alice = await devices.open('Alice')
  const a = alice.page
  await createSpace(a, 'Busy flat')
  const { write } = await shareLinks(a)
  const bob = await devices.open('Bob')
  const b = bob.page
  await b.goto(write)
  await expectSaved(b)
  await a.evaluate(() => {
    const w = window as unknown as { __said: string[] }
    w.__said = []
    const region = document.querySelector('[data-testid="remote-activity"]')!
    new MutationObserver(() => {
      const t = region.textContent ?? ''
      if (t) w.__said.push(t)
    }).observe(region, { childList: true, characterData: true, subtree: true })
  })
  await addItem(b, 'Tea')
  await expect(a.getByTestId('remote-activity')).toHaveText('Tea added')
  for (const name of ['Jam', 'Soap', 'Rice']) await addItem(b, name)
  await expect(a.getByTestId('remote-activity')).toHaveText('3 changes from others')
  const said = await a.evaluate(() => (window as unknown as { __said: string[] }).__said)
  expect(said).toEqual(['Tea added', '3 changes from others'])
})
