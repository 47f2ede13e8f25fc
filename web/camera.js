// camera.js -- microscope camera capture: choose a camera, frame one cell in the square guide,
// capture a still (the square under the guide, not mirrored) as a PNG Blob.

const PROMPT_TIMEOUT_MS = 10000;

export function cameraErrorMessage(e) {
  const name = e && e.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Camera access was denied. Allow the camera for this page in the browser\'s site settings ' +
           '(the icon left of the address bar), then try again.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
    return 'No camera was found. Connect the microscope camera (USB) and try again.';
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
    return 'The camera is in use by another application or could not be started. Close the other ' +
           'application and try again.';
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
    // Keep the guide over the square that capture() takes: 60% of the shorter side of the video
    // as it is displayed (object-fit: contain inside the view).
    const relayout = () => this.layoutGuide();
    if (typeof ResizeObserver !== 'undefined' && ui.video) new ResizeObserver(relayout).observe(ui.video);
    if (ui.video) ui.video.addEventListener('loadedmetadata', relayout);
  }

  layoutGuide() {
    const v = this.ui.video, g = this.ui.guide;
    if (!v || !g || !v.videoWidth || !v.clientWidth) return;
    const scale = Math.min(v.clientWidth / v.videoWidth, v.clientHeight / v.videoHeight);
    const side = 0.6 * Math.min(v.videoWidth, v.videoHeight) * scale;
    g.style.width = `${side}px`;
    g.style.height = `${side}px`;
  }

  /** Why the camera cannot be used here, or null. */
  static unavailableReason() {
    if (!globalThis.isSecureContext) {
      return 'The camera needs a secure page (https:// or http://localhost). Open this page over ' +
             'https, or use the file picker instead.';
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
      video: deviceId ? { deviceId: { exact: deviceId } } : { width: { ideal: 1920 }, height: { ideal: 1080 } },
    };
    // A permission prompt that nobody answers never settles: tell the user what is going on.
    const timer = setTimeout(() => this.ui.onMessage(
      'Waiting for camera permission: answer the browser\'s prompt (near the address bar). ' +
      'If no prompt is visible, check the site settings.'), PROMPT_TIMEOUT_MS);
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints);
    } catch (e) {
      throw Object.assign(e instanceof Error ? e : new Error(String(e)), { friendly: cameraErrorMessage(e) });
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
        v.addEventListener('loadedmetadata', () => { clearTimeout(t); resolve(); }, { once: true });
      });
    }
    this.layoutGuide();
    await this.listDevices(stream.getVideoTracks()[0]);
    this.ui.onMessage('');
  }

  async listDevices(activeTrack) {
    const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
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

  /** The square under the guide (60% of the shorter side, centred) as a PNG Blob. */
  async capture() {
    const v = this.ui.video;
    if (!this.stream || !v.videoWidth) throw new Error('The camera is not running.');
    const side = Math.round(Math.min(v.videoWidth, v.videoHeight) * 0.6);
    const sx = Math.round((v.videoWidth - side) / 2);
    const sy = Math.round((v.videoHeight - side) / 2);
    const canvas = document.createElement('canvas');
    canvas.width = side;
    canvas.height = side;
    canvas.getContext('2d').drawImage(v, sx, sy, side, side, 0, 0, side, side);
    return new Promise((resolve, reject) => canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error('Could not capture a still.'))), 'image/png'));
  }

  stop() {
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    if (this.ui.video) this.ui.video.srcObject = null;
  }
}
