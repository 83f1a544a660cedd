export { callReviewSocket, reviewSocketClient } from './client.ts';
export type { ReviewClientOptions, ReviewSocketClient } from './client.ts';
export { localGroups, localLogin, localReviewer } from './local-identity.ts';
export type { GroupResolver } from './local-identity.ts';
export {
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  parseRequest,
  REVIEW_SOCKET_NAME,
  REVIEW_SOCKETS_DIR,
} from './protocol.ts';
export type { ReviewSocketRequest, ReviewSocketResponse } from './protocol.ts';
export { serveReviewSocket } from './server.ts';
export type { ReviewSocketOptions, ReviewSocketServer } from './server.ts';
export { reviewSocketsClient, reviewSocketsIn } from './discover.ts';
