// camera.js -- microscope camera capture: choose a camera, capture a still of the whole frame
// (not mirrored) as a PNG Blob; the page reads it like a dropped file (a field or a cut-out cell).

const PROMPT_TIMEOUT_MS = 10000;

export function cameraErrorMessage(e) {
  const name = e && e.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return (
      "Camera access was denied. Allow the camera for this page in the browser's site settings " +
      '(the icon left of the address bar), then try again.'
    );
  }
  if (
    name === 'NotFoundError' ||
    name === 'OverconstrainedError' ||
    name === 'DevicesNotFoundError'
  ) {
    return 'No camera was found. Connect the microscope camera (USB) and try again.';
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
    return (
      'The camera is in use by another application or could not be started. Close the other ' +
      'application and try again.'
    );
  }
  return `The camera could not be started (${(e && (e.message || e.name)) || 'unknown error'}).`;
}

export class Camera {
  /**
   * @param {{video: HTMLVideoElement, select: HTMLSelectElement, onMessage: (text: string) => void}} ui
   */
  constructor(ui) {
    this.ui = ui;
    this.stream = null;
  }

  /** Why the camera cannot be used here, or null. */
  static unavailableReason() {
    if (!globalThis.isSecureContext) {
      return (
        'The camera needs a secure page (https:// or http://localhost). Open this page over ' +
        'https, or use the file picker instead.'
      );
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return 'This browser does not offer camera access. Use the file picker instead.';
    }
    return null;
  }

  async start(deviceId) {
    const why = Camera.unavailableReason();
    if (why) throw Object.assign(new Error(why), { name: 'Unavailable', friendly: why });
    this.stop();
    const constraints = {
      audio: false,
      video: deviceId
        ? { deviceId: { exact: deviceId } }
        : { width: { ideal: 1920 }, height: { ideal: 1080 } },
    };
    // A permission prompt that nobody answers never settles: tell the user what is going on.
    const timer = setTimeout(
      () =>
        this.ui.onMessage(
          "Waiting for camera permission: answer the browser's prompt (near the address bar). " +
            'If no prompt is visible, check the site settings.',
        ),
      PROMPT_TIMEOUT_MS,
    );
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints);
    } catch (e) {
      throw Object.assign(e instanceof Error ? e : new Error(String(e)), {
        friendly: cameraErrorMessage(e),
      });
    } finally {
      clearTimeout(timer);
    }
    this.stream = stream;
    const v = this.ui.video;
    v.srcObject = stream;
    await v.play().catch(() => {});
    if (!v.videoWidth) {
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 3000);
        v.addEventListener(
          'loadedmetadata',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
    await this.listDevices(stream.getVideoTracks()[0]);
    this.ui.onMessage('');
  }

  async listDevices(activeTrack) {
    const devices = (await navigator.mediaDevices.enumerateDevices()).filter(
      (d) => d.kind === 'videoinput',
    );
    const sel = this.ui.select;
    const active = activeTrack && activeTrack.getSettings ? activeTrack.getSettings().deviceId : '';
    sel.textContent = '';
    devices.forEach((d, i) => {
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || `Camera ${i + 1}`;
      if (d.deviceId === active) o.selected = true;
      sel.append(o);
    });
    sel.disabled = devices.length < 2;
  }

  /** The whole frame, at the camera's resolution, as a PNG Blob. */
  async capture() {
    const v = this.ui.video;
    if (!this.stream || !v.videoWidth) throw new Error('The camera is not running.');
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d').drawImage(v, 0, 0);
    return new Promise((resolve, reject) =>
      canvas.toBlob(
        (b) => (b ? resolve(b) : reject(new Error('Could not capture a still.'))),
        'image/png',
      ),
    );
  }

  stop() {
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    if (this.ui.video) this.ui.video.srcObject = null;
  }
}
