// The shape of an HTTP handler: it gets the app's context with express's request and response.
import type { Request, Response } from 'express';
import type { AppContext } from '../context';

export type HttpHandler = (ctx: AppContext, req: Request, res: Response) => Promise<void> | void;
