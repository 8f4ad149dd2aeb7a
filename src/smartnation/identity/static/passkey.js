// Passkeys: turn the server's WebAuthn options (JSON with base64url fields) into the browser's
// call, and the browser's answer back into JSON posted with the form. Used by the passkey login
// step (navigator.credentials.get) and by passkey registration (navigator.credentials.create).
(function () {
  const form = document.getElementById('passkey-form')
  const optionsNode = document.getElementById('passkey-options')
  if (!form || !optionsNode) return
  const mode = form.dataset.mode
  const status = document.getElementById('passkey-status')
  const b64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
  const unb64 = (text) => {
    const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4)
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer
  }
  async function run(event) {
    event.preventDefault()
    const options = JSON.parse(optionsNode.textContent)
    options.challenge = unb64(options.challenge)
    for (const list of [options.allowCredentials, options.excludeCredentials]) {
      for (const item of list || []) item.id = unb64(item.id)
    }
    if (options.user) options.user.id = unb64(options.user.id)
    try {
      const credential = mode === 'create'
        ? await navigator.credentials.create({ publicKey: options })
        : await navigator.credentials.get({ publicKey: options })
      const response = {}
      for (const name of ['clientDataJSON', 'attestationObject', 'authenticatorData', 'signature', 'userHandle']) {
        if (credential.response[name]) response[name] = b64(credential.response[name])
      }
      if (credential.response.getTransports) response.transports = credential.response.getTransports()
      form.elements.credential.value = JSON.stringify({
        id: credential.id, rawId: b64(credential.rawId), type: credential.type, response,
        clientExtensionResults: credential.getClientExtensionResults(),
      })
      form.submit()
    } catch (error) {
      if (status) status.textContent = status.dataset.failed
    }
  }
  form.addEventListener('submit', run)
})()
