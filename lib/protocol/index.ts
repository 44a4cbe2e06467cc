// `vcall/protocol`: the protocol's types for an app that talks to vcall with
// protoo-client and mediasoup-client. Types only; nothing here runs.

export type {
	ConsumeDataResponse,
	ConsumeManyResponse,
	ConsumeResponse,
	DataProducerInfo,
	IceServer,
	JoinResponse,
	Notification,
	NotificationMethod,
	Notifications,
	PeerInfo,
	ProducerInfo,
	RejoinResponse,
	RequestMethod,
	RequestParams,
	Responses,
	RoomInfo,
	Success,
	TransportResponse
} from './methods.js';
export type { ErrorCode } from './errors.js';
